//! Clients that follow the protocol's delivery contract (device ids,
//! message ids, resume with `since`, resend until acknowledged), servers
//! run as real processes, and the checks that every client's view equals
//! the store: for the tests that kill servers in the middle of traffic.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use natter_shared::{ClientMsg, DeviceId, MessageId, MessageText, RoomName, Seq, ServerMsg};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

use super::{WAIT, room};

/// Unacknowledged messages one writer keeps in flight.
const WINDOW: usize = 64;

/// What each peer must have seen of each room before it stops: the store's
/// count, sent once all writing is done.
pub type Target = Arc<watch::Receiver<Option<BTreeMap<String, u64>>>>;

/// Sets the [`Target`].
pub type SetTarget = watch::Sender<Option<BTreeMap<String, u64>>>;

pub const ROOMS: [&str; 3] = ["alpha", "beta", "gamma"];
pub const WRITERS: usize = 3;
const MESSAGES: u64 = 10_000;

/// Starts the binary on `addr` with the database at `db` and `extra`
/// flags, messages and history pages unlimited; returns once it listens.
pub async fn start(addr: SocketAddr, db: &str, extra: &[&str]) -> Child {
    // Raised: the peers write thousands of messages as fast as they can,
    // and `store_view` reads every page back on one connection.
    let bulk = [
        "--message-rate",
        "100000",
        "--message-burst",
        "100000",
        "--history-rate",
        "100000",
        "--history-burst",
        "100000",
    ];
    start_paced(addr, db, &[extra, &bulk].concat()).await
}

/// [`start`] at the default message limits, for clients that pace what
/// they send as the web client does.
pub async fn start_paced(addr: SocketAddr, db: &str, extra: &[&str]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args(extra)
        .args([
            "--bind",
            &addr.to_string(),
            "--log",
            "warn,natter_server=info",
        ])
        .args(["--connect-burst", "1000", "--presence-grace-secs", "0"])
        .env("NATTER_DATABASE_URL", db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("listening on") {
                return;
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("listening in time");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

/// Kills `child` with SIGKILL, as a crash would, and reaps it.
pub async fn kill_9(child: &mut Child) {
    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-9", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    child.wait().await.unwrap();
}

/// One client following the delivery contract, writing its share of the
/// messages and reading every room.
pub struct Peer {
    pub device: DeviceId,
    /// Messages to write, not yet sent on the current connection.
    pub to_write: VecDeque<(MessageId, RoomName, MessageText)>,
    /// Sent and not yet acknowledged, in order; resent after a reconnect.
    pub in_flight: VecDeque<(MessageId, RoomName, MessageText)>,
    /// What the server acknowledged: id → (room, seq).
    pub acked: HashMap<MessageId, (String, u64)>,
    /// What this peer saw of each room, in order of arrival.
    pub seen: BTreeMap<String, Vec<(u64, String)>>,
    pub duplicates: usize,
    /// Which peer this is, and how often it has connected: where it
    /// connects next.
    n: usize,
    connections: usize,
}

impl Peer {
    pub fn new(n: usize, share: u64) -> Peer {
        let to_write = (0..share)
            .map(|i| {
                let id = MessageId::try_from(format!("p{n}-m{i}")).unwrap();
                let text = MessageText::try_from(format!("peer {n} message {i}")).unwrap();
                (id, room(ROOMS[(i as usize + n) % ROOMS.len()]), text)
            })
            .collect();
        Peer {
            device: DeviceId::try_from(format!("device-{n}")).unwrap(),
            to_write,
            in_flight: VecDeque::new(),
            acked: HashMap::new(),
            seen: ROOMS
                .iter()
                .map(|r| ((*r).to_owned(), Vec::new()))
                .collect(),
            duplicates: 0,
            n,
            connections: 0,
        }
    }

    fn last(&self, room: &str) -> u64 {
        self.seen[room].last().map_or(0, |(seq, _)| *seq)
    }

    fn record(&mut self, room: &RoomName, seq: Seq, text: &Option<MessageText>) {
        let text = text
            .as_ref()
            .expect("this contract's messages are never deleted");
        let key = room.as_str().to_owned();
        if seq.0 <= self.last(&key) {
            self.duplicates += 1;
            return;
        }
        self.seen
            .get_mut(&key)
            .unwrap()
            .push((seq.0, text.to_string()));
    }

    /// Runs until everything is written and acknowledged and the peer has
    /// seen every room up to `target` (filled in once all writing is done).
    pub async fn run(
        mut self,
        addrs: Vec<SocketAddr>,
        acks: Arc<AtomicU64>,
        target: Target,
    ) -> Peer {
        let mut target = (*target).clone();
        loop {
            // Connect, retrying while the server is down (it comes back),
            // trying each node in turn.
            let mut attempts = 0;
            let ws = loop {
                let addr = addrs[(self.n + self.connections + attempts) % addrs.len()];
                match connect_async(format!("ws://{addr}/ws")).await {
                    Ok((ws, _)) => break ws,
                    Err(_) => {
                        attempts += 1;
                        assert!(attempts < 400, "the server never came back");
                        tokio::time::sleep(Duration::from_millis(25)).await;
                    }
                }
            };
            self.connections += 1;
            let (mut tx, mut rx) = ws.split();
            let mut hello = vec![ClientMsg::Hello {
                device: self.device.clone(),
            }];
            for r in ROOMS {
                hello.push(ClientMsg::Join {
                    room: room(r),
                    since: Some(Seq(self.last(r))),
                    private: false,
                });
            }
            // Everything unacknowledged goes again, first, in order.
            while let Some(m) = self.in_flight.pop_back() {
                self.to_write.push_front(m);
            }
            let mut broken = false;
            for m in hello {
                broken |= tx.send(Message::text(m.to_json())).await.is_err();
            }
            while !broken {
                while self.in_flight.len() < WINDOW {
                    let Some((id, r, text)) = self.to_write.pop_front() else {
                        break;
                    };
                    let say = ClientMsg::Say {
                        room: r.clone(),
                        text: text.clone(),
                        id: Some(id.clone()),
                    };
                    self.in_flight.push_back((id, r, text));
                    if tx.send(Message::text(say.to_json())).await.is_err() {
                        broken = true;
                        break;
                    }
                }
                let done_writing = self.to_write.is_empty() && self.in_flight.is_empty();
                if done_writing
                    && let Some(goal) = target.borrow().clone()
                    && goal.iter().all(|(r, seq)| self.last(r) >= *seq)
                {
                    return self;
                }
                tokio::select! {
                    frame = rx.next() => match frame {
                        Some(Ok(Message::Text(text))) => match natter_shared::decode_server(&text).unwrap() {
                            ServerMsg::Said { room, seq, text, .. } => self.record(&room, seq, &text),
                            ServerMsg::History { room, messages, gap, .. } => {
                                assert!(!gap, "a gap too large to replay");
                                for m in messages {
                                    self.record(&room, m.seq, &m.text);
                                }
                            }
                            ServerMsg::Ack { id, room, seq } => {
                                self.in_flight.retain(|(i, ..)| *i != id);
                                self.acked.insert(id, (room.to_string(), seq.0));
                                acks.fetch_add(1, Ordering::SeqCst);
                            }
                            ServerMsg::Error { code, message, .. } => panic!("refused: {code:?} {message}"),
                            _ => {}
                        },
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => broken = true,
                    },
                    _ = target.changed() => {}
                }
            }
        }
    }
}

/// Starts `writers` peers sharing `messages`, peer `n` connecting first to
/// `addrs[n % addrs.len()]`; returns their tasks, the count of
/// acknowledgements and the sender of the target.
pub fn spawn_peers(
    writers: usize,
    messages: u64,
    addrs: &[SocketAddr],
) -> (Vec<JoinHandle<Peer>>, Arc<AtomicU64>, SetTarget) {
    let acks = Arc::new(AtomicU64::new(0));
    let (set_target, target) = watch::channel(None);
    let target = Arc::new(target);
    let share = messages / writers as u64;
    let peers = (0..writers)
        .map(|n| {
            let extra = if n == 0 {
                messages - share * writers as u64
            } else {
                0
            };
            tokio::spawn(Peer::new(n, share + extra).run(
                addrs.to_vec(),
                Arc::clone(&acks),
                Arc::clone(&target),
            ))
        })
        .collect();
    (peers, acks, set_target)
}

/// Waits until at least `n` messages are acknowledged.
pub async fn acked(acks: &AtomicU64, n: u64) {
    tokio::time::timeout(Duration::from_secs(120), async {
        while acks.load(Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("messages are acknowledged in time");
}

/// Every room's history as the server at `addr` serves it, oldest first.
pub async fn store_view(addr: SocketAddr) -> BTreeMap<String, Vec<(u64, String)>> {
    let (mut reader, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
    let mut store: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for r in ROOMS {
        let (entered, _) = super::enter(&mut reader, r).await;
        let ServerMsg::Entered { latest, .. } = entered else {
            unreachable!()
        };
        let mut all = Vec::new();
        let mut before = latest.map_or(1, |s| s.0 + 1);
        loop {
            super::send(
                &mut reader,
                &ClientMsg::History {
                    room: room(r),
                    before: Seq(before),
                },
            )
            .await;
            let page = super::read_until(&mut reader, |m| matches!(m, ServerMsg::History { .. }))
                .await
                .pop()
                .unwrap();
            let ServerMsg::History { messages, more, .. } = page else {
                unreachable!()
            };
            before = messages.first().map_or(1, |m| m.seq.0);
            all.splice(
                0..0,
                messages
                    .into_iter()
                    .map(|m| (m.seq.0, m.text.expect("never deleted").to_string())),
            );
            if !more {
                break;
            }
        }
        store.insert(r.to_owned(), all);
    }
    store
}

/// Reads the store through `addr`, lets the peers finish, and checks that
/// each saw exactly the store's history of every room (no gaps, no
/// duplicates, the same order), that every acknowledged message is stored
/// under its number, and that all `messages` are stored exactly once.
pub async fn check(
    addr: SocketAddr,
    peers: Vec<JoinHandle<Peer>>,
    set_target: SetTarget,
    messages: u64,
) {
    // A node shows a room up to what it has delivered; after a Redis outage
    // it may still be catching up from the store for a moment (the next
    // snapshot from the other nodes repairs it). Wait until it shows all
    // the messages, or fail below if some never arrive.
    let mut store = store_view(addr).await;
    for _ in 0..100 {
        let shown: usize = store.values().map(Vec::len).sum();
        if shown as u64 >= messages {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        store = store_view(addr).await;
    }
    let goal: BTreeMap<String, u64> = store
        .iter()
        .map(|(r, m)| (r.clone(), m.len() as u64))
        .collect();
    set_target.send(Some(goal)).unwrap();

    let mut total = 0;
    for peer in peers {
        let peer = tokio::time::timeout(Duration::from_secs(60), peer)
            .await
            .expect("peer finished")
            .unwrap();
        assert_eq!(
            peer.duplicates, 0,
            "{:?} was delivered something twice",
            peer.device
        );
        for (r, stored) in &store {
            let seqs: Vec<u64> = stored.iter().map(|(s, _)| *s).collect();
            assert_eq!(
                seqs,
                (1..=stored.len() as u64).collect::<Vec<_>>(),
                "{r}: the store has gaps"
            );
            let seen: Vec<u64> = peer.seen[r].iter().map(|(s, _)| *s).collect();
            let missing: Vec<u64> = seqs.iter().filter(|s| !seen.contains(s)).copied().collect();
            assert!(
                missing.is_empty(),
                "{:?} never saw these of {r}: {missing:?}",
                peer.device
            );
            if let Some(i) = (0..stored.len()).find(|&i| peer.seen[r].get(i) != stored.get(i)) {
                panic!(
                    "{:?}'s view of {r} differs from the store at {i}: saw {:?}, stored {:?}",
                    peer.device,
                    peer.seen[r].get(i.saturating_sub(2)..(i + 3).min(peer.seen[r].len())),
                    &stored[i.saturating_sub(2)..(i + 3).min(stored.len())]
                );
            }
            assert_eq!(
                &peer.seen[r], stored,
                "{:?}'s view of {r} differs from the store",
                peer.device
            );
        }
        // Every acknowledged message is in the store, under its number.
        for (id, (r, seq)) in &peer.acked {
            let (_, text) = &store[r][usize::try_from(*seq - 1).unwrap()];
            assert!(
                text.ends_with(&format!(
                    "message {}",
                    id.as_str().split("-m").nth(1).unwrap()
                )),
                "{id:?} → {r} {seq}: {text}"
            );
        }
        total += peer.acked.len();
    }
    assert_eq!(total as u64, messages, "every message acknowledged");
    let stored: usize = store.values().map(Vec::len).sum();
    assert_eq!(stored as u64, messages, "each message stored exactly once");
}
