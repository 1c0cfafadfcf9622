//! A room of a million messages: how long its newest page takes, in
//! process and over a socket.

use super::*;
use natter_server::store::RoomId;

/// The newest page of a long room, in the store and through the server.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub messages: u64,
    pub fill_seconds: f64,
    pub database_mib: f64,
    /// `Store::page` for the newest page, called in process.
    pub store_page_ms: Latency,
    /// `history` request to `history` answer, at the client.
    pub round_trip_ms: Latency,
    /// `join` of the room to its first page, at the client.
    pub join_ms: Latency,
    /// Mean time the server spent in the store per page, from `/metrics`.
    pub server_store_page_mean_ms: f64,
}

/// Distinct authors in the long room.
pub(super) const AUTHORS: u64 = 20;
/// Messages per transaction while filling.
pub(super) const BATCH: u64 = 10_000;
/// The first message's time (2024-01-01T00:00:00Z); one a second after.
pub(super) const START: u64 = 1_704_067_200_000;

pub async fn history(
    target: &Target,
    log: &Path,
    messages: u64,
    rounds: usize,
    bar: &ProgressBar,
) -> Result<History> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("history.db");
    let url = path.to_str().context("the temporary path is not UTF-8")?;
    let (store, room) = long_room(url).await?;
    let filling = Instant::now();
    fill(&store, room, messages, bar).await?;
    let fill_seconds = filling.elapsed().as_secs_f64();
    store.checkpoint().await?;
    let database_mib = std::fs::metadata(&path)?.len() as f64 / (1024.0 * 1024.0);
    let store_page_ms = newest_pages_in_store(&store, room, messages, rounds, bar).await?;
    store.close().await;

    let server = target.start_on(log, Some(&path)).await?;
    let join_ms = joins(server.addr, messages, rounds, bar).await?;
    let round_trip_ms = newest_pages(server.addr, messages, rounds, bar).await?;
    let server_store_page_mean_ms = store_page_mean(server.addr).await?;
    server.stop().await;
    Ok(History {
        messages,
        fill_seconds,
        database_mib,
        store_page_ms,
        round_trip_ms,
        join_ms,
        server_store_page_mean_ms,
    })
}

/// A new database at `url` with the empty room `long`.
pub(super) async fn long_room(url: &str) -> Result<(Store, RoomId)> {
    let store = Store::open(url).await?;
    let room = store
        .create_room(&RoomName::try_from("long")?, UnixMillis(START))
        .await?
        .id;
    Ok((store, room))
}

/// Stores `messages` messages in `room`, in batches, by a few authors.
pub(super) async fn fill(
    store: &Store,
    room: RoomId,
    messages: u64,
    bar: &ProgressBar,
) -> Result<()> {
    bar.set_message(format!("filling a room with {messages} messages"));
    bar.set_length(messages);
    bar.set_position(0);
    let nicks: Vec<Nick> = (1..=AUTHORS).map(Nick::numbered).collect();
    let mut next = 1;
    while next <= messages {
        let end = messages.min(next + BATCH - 1);
        let batch = (next..=end)
            .map(|seq| {
                let nick = nicks[(seq % AUTHORS) as usize].clone();
                Ok(Draft::message(room, nick, text(seq)?, None))
            })
            .collect::<Result<Vec<_>>>()?;
        store
            .append(&batch, UnixMillis(START + next * 1000))
            .await?;
        bar.set_position(end);
        next = end + 1;
    }
    Ok(())
}

/// The newest page read from the store in this process, `rounds` times
/// after as many to warm up.
async fn newest_pages_in_store(
    store: &Store,
    room: RoomId,
    messages: u64,
    rounds: usize,
    bar: &ProgressBar,
) -> Result<Latency> {
    bar.set_message("newest page, in process");
    let newest = Seq(messages + 1);
    let mut hist = load::histogram();
    for i in 0..rounds * 2 {
        let started = Instant::now();
        let (page, more) = store.page(room, newest, PAGE_SIZE).await?;
        let took = started.elapsed();
        ensure!(
            page.len() == PAGE_SIZE && more,
            "the newest page is not full"
        );
        ensure!(
            page.last().map(|m| m.seq) == Some(Seq(messages)),
            "the newest page ends early"
        );
        if i >= rounds {
            hist.saturating_record((took.as_micros() as u64).max(1));
        }
    }
    Ok(Latency::of(&hist))
}

/// From a join sent to the room's first page, on a new connection each
/// round.
async fn joins(
    addr: SocketAddr,
    messages: u64,
    rounds: usize,
    bar: &ProgressBar,
) -> Result<Latency> {
    bar.set_message("newest page, through the server");
    let long = RoomName::try_from("long")?;
    let mut hist = load::histogram();
    for i in 0..rounds {
        let mut ws = client::connect(Kind::Natter, addr, i).await?;
        let started = Instant::now();
        let join = ClientMsg::Join {
            room: long.clone(),
            since: None,
            private: false,
        };
        client::send_json(&mut ws, &join).await?;
        let page = client::until(&mut ws, |m| matches!(m, ServerMsg::History { .. })).await?;
        hist.saturating_record((started.elapsed().as_micros() as u64).max(1));
        check_page(&page, messages)?;
        let _ = ws.close(None).await;
    }
    Ok(Latency::of(&hist))
}

/// The newest page asked for again and again on one connection.
async fn newest_pages(
    addr: SocketAddr,
    messages: u64,
    rounds: usize,
    bar: &ProgressBar,
) -> Result<Latency> {
    bar.set_message("newest page again, through the server");
    let mut ws = client::join(Kind::Natter, addr, 0, "long").await?;
    let ask = ClientMsg::History {
        room: RoomName::try_from("long")?,
        before: Seq(messages + 1),
    };
    let mut hist = load::histogram();
    for _ in 0..rounds {
        let started = Instant::now();
        client::send_json(&mut ws, &ask).await?;
        let page = client::until(&mut ws, |m| matches!(m, ServerMsg::History { .. })).await?;
        hist.saturating_record((started.elapsed().as_micros() as u64).max(1));
        check_page(&page, messages)?;
    }
    Ok(Latency::of(&hist))
}

pub(super) fn check_page(page: &ServerMsg, messages: u64) -> Result<()> {
    let ServerMsg::History { messages: page, .. } = page else {
        anyhow::bail!("not a history page");
    };
    ensure!(
        page.len() == PAGE_SIZE && page.last().map(|m| m.seq) == Some(Seq(messages)),
        "the server's newest page is not the room's last {PAGE_SIZE} messages"
    );
    Ok(())
}

/// A message of 30 to about 200 characters, varying with `seq`.
pub(super) fn text(seq: u64) -> Result<MessageText> {
    const WORDS: &str = "the quick brown fox jumps over the lazy dog while \
        everyone in the room keeps talking about lunch and the build";
    let len = 30 + (seq * 7919 % 170) as usize;
    let mut text = format!("message {seq}: ");
    while text.len() < len {
        text.push_str(WORDS);
        text.push(' ');
    }
    text.truncate(len);
    Ok(MessageText::try_from(text)?)
}

/// The mean of `natter_store_seconds{op="page"}`, in milliseconds.
pub(super) async fn store_page_mean(addr: SocketAddr) -> Result<f64> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    // The server answers only names it knows; its address is one.
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut body = String::new();
    stream.read_to_string(&mut body).await?;
    let value = |name: &str| -> Option<f64> {
        body.lines()
            .find(|l| l.starts_with(name) && l.contains(r#"op="page""#))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    };
    let sum = value("natter_store_seconds_sum").context("no page timings in /metrics")?;
    let count = value("natter_store_seconds_count").context("no page count in /metrics")?;
    Ok(if count > 0.0 {
        sum / count * 1000.0
    } else {
        0.0
    })
}
