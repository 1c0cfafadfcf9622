//! Names across the cluster: each is claimed with a Redis key, held by a
//! node and a device, and default names `userN` count up across nodes.

use natter_shared::{DeviceId, Nick};

use super::publish::Job;
use super::{BusError, Cluster, bounded};
use crate::hub::ConnId;

/// Releases a name only if the caller still holds it.
pub(super) const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Takes a name unless a live node holds it for another device. The owner
/// is `<node>|<holder>`; a node is live while its key (`ARGV[2]` followed
/// by the node) exists.
const CLAIM: &str = r"
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then
  local node, holder = string.match(held, '^([^|]*)|(.*)$')
  local mine = string.match(ARGV[1], '^[^|]*|(.*)$')
  if holder ~= mine and redis.call('EXISTS', ARGV[2] .. node) == 1 then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1";

impl Cluster {
    /// A number for the next default name, counted across nodes; `None`
    /// when Redis does not answer (the node then counts on its own).
    pub(crate) async fn next_number(&self) -> Option<u64> {
        let mut redis = self.inner.redis.clone();
        let mut incr = redis::cmd("INCR");
        incr.arg(self.inner.settings.arrivals());
        match bounded(incr.query_async::<u64>(&mut redis)).await {
            Ok(n) => Some(n),
            Err(err) => {
                tracing::warn!(%err, "cannot number an arrival across the cluster");
                None
            }
        }
    }

    /// Claims `nick` for the connection `conn` (of `device`, if it said
    /// which) across the cluster; `false` when someone else holds it.
    pub(crate) async fn claim(
        &self,
        nick: &Nick,
        conn: ConnId,
        device: Option<&DeviceId>,
    ) -> Result<bool, BusError> {
        let mut redis = self.inner.redis.clone();
        let script = redis::Script::new(CLAIM);
        let mut call = script.key(self.inner.settings.nick_key(nick));
        call.arg(self.owner(conn, device))
            .arg(format!("{}:node:", self.inner.settings.name));
        let taken: i64 = bounded(call.invoke_async(&mut redis)).await?;
        Ok(taken == 1)
    }

    /// Gives a claimed name back, if this connection still holds it.
    pub(crate) fn release(&self, nick: &Nick, conn: ConnId, device: Option<&DeviceId>) {
        let _ = self.inner.jobs.send(Job::Release {
            key: self.inner.settings.nick_key(nick),
            owner: self.owner(conn, device),
        });
    }

    fn owner(&self, conn: ConnId, device: Option<&DeviceId>) -> String {
        let holder = match device {
            Some(device) => format!("d:{}", device.as_str()),
            None => format!("c:{conn}"),
        };
        format!("{:016x}|{holder}", self.inner.node)
    }
}
