//! An account that follows 1,000 rooms: how long its unread and mention
//! counts take at the server (the `read_states` a signed-in connection is
//! told after `welcome`), in process.

use natter_server::store::Making;
use natter_shared::Role;

use super::*;

/// The counts of an account in many rooms.
#[derive(Debug, Clone, Serialize)]
pub struct Unread {
    pub rooms: u64,
    /// Rooms with unread messages; the others are read to the end.
    pub busy_rooms: u64,
    /// Messages in each room, of which the last `unread` are unread.
    pub messages_per_room: u64,
    pub unread_per_room: u64,
    /// `Store::following`: every room's counts, at once.
    pub counts_ms: Latency,
}

/// Messages per room, and how many of the newest are unread.
const MESSAGES: u64 = 40;
const UNREAD: u64 = 15;

pub async fn unread(rooms: u64, busy: u64, rounds: usize, bar: &ProgressBar) -> Result<Unread> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("unread.db");
    let url = path.to_str().context("the temporary path is not UTF-8")?;
    let store = Store::open(url).await?;
    let ada = Nick::try_from("Ada")?;
    let account = store
        .create_account(&ada, "ada", None, Role::Member, UnixMillis(START))
        .await?;
    bar.set_message(format!("{rooms} rooms of {MESSAGES} messages"));
    bar.set_length(rooms);
    for n in 0..rooms {
        let making = Making {
            by: Some(account),
            private: false,
            people: Vec::new(),
        };
        let name = RoomName::try_from(format!("room-{n}"))?;
        let (room, _) = store.make_room(&name, UnixMillis(START), making).await?;
        let drafts = (1..=MESSAGES)
            .map(|i| {
                let text = if i % 5 == 0 { "@Ada look" } else { "hello" };
                Ok(Draft::message(
                    room.id,
                    Nick::numbered(i % 7 + 1),
                    MessageText::try_from(text)?,
                    None,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        store.append(&drafts, UnixMillis(START + n)).await?;
        let read = if n < busy {
            MESSAGES - UNREAD
        } else {
            MESSAGES
        };
        store.mark_read(account, room.id, Seq(read)).await?;
        bar.set_position(n + 1);
    }
    bar.set_message("counting");
    let mut hist = load::histogram();
    for i in 0..rounds * 2 {
        let started = Instant::now();
        let following = store.following(account).await?;
        let took = started.elapsed();
        ensure!(
            following.len() as u64 == rooms,
            "not every room is followed"
        );
        let unread: u64 = following.iter().map(|f| u64::from(f.unread)).sum();
        let mentions: u64 = following.iter().map(|f| u64::from(f.mentions)).sum();
        ensure!(
            unread == busy * UNREAD && mentions == busy * 3,
            "the counts are wrong: {unread} unread, {mentions} mentions"
        );
        if i >= rounds {
            hist.saturating_record((took.as_micros() as u64).max(1));
        }
    }
    store.close().await;
    Ok(Unread {
        rooms,
        busy_rooms: busy,
        messages_per_room: MESSAGES,
        unread_per_room: UNREAD,
        counts_ms: Latency::of(&hist),
    })
}

/// The first message's time (2024-01-01T00:00:00Z).
const START: u64 = 1_704_067_200_000;
