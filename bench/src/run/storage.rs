//! The scenarios on what the server stores: persistence, start-up on a
//! database, unread counts and history.

use anyhow::Result;

use super::Run;
use crate::scenarios;
use crate::target::Target;

impl Run {
    pub(super) async fn persist(&mut self, target: &Target) -> Result<()> {
        let log = self.log(target, "persist");
        let persist =
            scenarios::persist(target, &log, self.sizes.persist, self.clock, &self.bar).await?;
        self.say(format!(
            "  {:<22} persistence: {:.0} acknowledged messages/s",
            target.kind.label(),
            persist.acknowledged_per_s
        ));
        self.results.persist = Some(persist);
        Ok(())
    }

    /// Start-up on an empty database and on the history scenario's size.
    pub(super) async fn startup(&mut self, target: &Target) -> Result<()> {
        for messages in [0, self.sizes.history] {
            let startup = scenarios::startup(&self.cli.natter, messages, 20, &self.bar).await?;
            self.say(format!(
                "  {:<22} startup: {} messages, ready in {:.1} ms (p50), {:.1} ms (max); idle {:.1} MiB; targets 50 and 200 ms, 20 MB",
                target.kind.label(),
                startup.messages,
                startup.ready_ms.p50,
                startup.ready_ms.max,
                startup.idle_rss_mib
            ));
            self.results.startup.push(startup);
        }
        Ok(())
    }

    /// An account in 1,000 rooms: 50 with unread messages, then all.
    pub(super) async fn unread(&mut self, target: &Target) -> Result<()> {
        for busy in [50, 1000] {
            let unread = scenarios::unread(1000, busy, 200, &self.bar).await?;
            self.say(format!(
                "  {:<22} unread: counts of {} rooms, {} unread, {:.3} ms (p50), {:.3} ms (p99); target 5 ms",
                target.kind.label(),
                unread.rooms,
                unread.busy_rooms,
                unread.counts_ms.p50,
                unread.counts_ms.p99
            ));
            self.results.unread.push(unread);
        }
        Ok(())
    }

    pub(super) async fn history(&mut self, target: &Target) -> Result<()> {
        let log = self.log(target, "history");
        let history = scenarios::history(target, &log, self.sizes.history, 1000, &self.bar).await?;
        self.say(format!(
            "  {:<22} history: newest page {:.3} ms in the store, {:.3} ms round trip (p50)",
            target.kind.label(),
            history.store_page_ms.p50,
            history.round_trip_ms.p50
        ));
        self.results.history = Some(history);
        Ok(())
    }
}
