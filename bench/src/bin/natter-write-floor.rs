//! `natter-write-floor`: the least CPU any chat server can spend on a
//! delivery over loopback on this machine, measured without a server.
//!
//! It listens on 127.0.0.1, takes `connections` connections, then, for
//! `seconds`, gives every connection `frames_per_s` frames of
//! `frame_bytes` a second, `frames_per_write` frames to each write system
//! call, one connection
//! after another from one thread, as a server that does nothing else would.
//! Its own CPU time over that window, divided by the frames written, is the
//! floor: the kernel's loopback TCP path, both sides of which run in the
//! writer's time, plus one system call per write. The load generator
//! (`natter-bench --only floor`) reads the frames and checks they all
//! arrived.
//!
//! Prints `port <n>` once listening, then one line of results:
//! `writes <n> frames <n> cpu_us <n> wall_us <n>`.

// A measuring tool reports on standard output.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().context("arguments are whole numbers"))
        .collect::<Result<_>>()?;
    let [
        connections,
        frames_per_s,
        frames_per_write,
        seconds,
        frame_bytes,
    ] = args[..]
    else {
        bail!(
            "usage: natter-write-floor CONNECTIONS FRAMES_PER_S FRAMES_PER_WRITE SECONDS FRAME_BYTES"
        );
    };
    if connections == 0 || frames_per_s == 0 || frames_per_write == 0 {
        bail!("connections, frames per second and frames per write must be above zero");
    }
    if !(3..=1024).contains(&frame_bytes) {
        bail!("a frame is 3 to 1,024 bytes");
    }
    let frame = text_frame(usize::try_from(frame_bytes)?)?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("port {}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    let mut sockets = Vec::new();
    while sockets.len() < usize::try_from(connections)? {
        let (socket, _) = listener.accept()?;
        socket.set_nodelay(true)?;
        sockets.push(socket);
    }
    let report = write_for(
        &mut sockets,
        frames_per_s,
        &frame.repeat(usize::try_from(frames_per_write)?),
        frames_per_write,
        Duration::from_secs(seconds),
    )?;
    println!(
        "writes {} frames {} cpu_us {} wall_us {}",
        report.writes, report.frames, report.cpu_us, report.wall_us
    );
    Ok(())
}

struct Report {
    writes: u64,
    frames: u64,
    cpu_us: u64,
    wall_us: u64,
}

/// Writes `buffer`, `frames_per_write` frames, to every socket in turn on
/// a fixed schedule: a round every `frames_per_write / frames_per_s`
/// seconds, until `length` has passed.
fn write_for(
    sockets: &mut [TcpStream],
    frames_per_s: u64,
    buffer: &[u8],
    frames_per_write: u64,
    length: Duration,
) -> Result<Report> {
    let round = Duration::from_secs_f64(frames_per_write as f64 / frames_per_s as f64);
    let cpu_before = cpu_time()?;
    let start = Instant::now();
    let mut next = start;
    let mut writes = 0u64;
    while start.elapsed() < length {
        for socket in sockets.iter_mut() {
            socket.write_all(buffer)?;
            writes += 1;
        }
        // The schedule, not a wait for an event: the next round is due at
        // a fixed time whatever this one cost.
        next += round;
        if let Some(rest) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(rest);
        }
    }
    let wall = start.elapsed();
    let cpu = cpu_time()?.saturating_sub(cpu_before);
    Ok(Report {
        writes,
        frames: writes * frames_per_write,
        cpu_us: u64::try_from(cpu.as_micros())?,
        wall_us: u64::try_from(wall.as_micros())?,
    })
}

/// An unmasked WebSocket text frame of `bytes` bytes in all, as a server
/// sends one.
fn text_frame(bytes: usize) -> Result<Vec<u8>> {
    let mut frame = vec![0x81];
    if bytes - 2 <= 125 {
        frame.push(u8::try_from(bytes - 2)?);
    } else {
        // The 16-bit length is only for payloads it is needed for.
        anyhow::ensure!(bytes >= 130, "no frame of {bytes} bytes exists");
        frame.push(126);
        frame.extend_from_slice(&u16::try_from(bytes - 4)?.to_be_bytes());
    }
    frame.resize(bytes, b'x');
    Ok(frame)
}

/// This process's user and system CPU time, all threads
/// (`CLOCK_PROCESS_CPUTIME_ID`, to the nanosecond).
fn cpu_time() -> Result<Duration> {
    Ok(cpu_time::ProcessTime::try_now()?.as_duration())
}
