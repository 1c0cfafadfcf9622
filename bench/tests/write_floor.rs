//! `natter-write-floor` writes what it reports: whole WebSocket text
//! frames, on its schedule, to every connection, and refuses arguments it
//! cannot honour.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};

const WRITER: &str = env!("CARGO_BIN_EXE_natter-write-floor");

/// Reads a connection to its end; returns the bytes.
fn drain(mut socket: TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    socket.read_to_end(&mut all).expect("the writer's frames");
    all
}

/// Starts the writer with `args`; returns it, its output after the first
/// line, and the port that line names.
fn start(args: &[&str]) -> (Child, BufReader<ChildStdout>, u16) {
    let mut writer = Command::new(WRITER)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(writer.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let port = line.trim().strip_prefix("port ").unwrap().parse().unwrap();
    (writer, out, port)
}

fn field(report: &str, name: &str) -> u64 {
    let mut words = report.split_whitespace();
    while let Some(word) = words.next() {
        if word == name {
            return words.next().unwrap().parse().unwrap();
        }
    }
    panic!("no {name} in {report:?}");
}

#[test]
fn every_connection_gets_whole_frames_and_no_more_than_scheduled() {
    // 4 connections, 20 frames a second each, 2 to a write, for 1 s, of
    // 200 bytes: a round of 4 writes every 100 ms, 10 rounds.
    let (mut writer, mut out, port) = start(&["4", "20", "2", "1", "200"]);
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
            std::thread::spawn(move || drain(socket))
        })
        .collect();
    let mut report = String::new();
    out.read_line(&mut report).unwrap();
    assert!(writer.wait().unwrap().success());

    let writes = field(&report, "writes");
    let frames = field(&report, "frames");
    assert_eq!(frames, writes * 2, "{report}");
    // Whole rounds, never ahead of the schedule (a stalled machine may
    // fit fewer in the second).
    assert!(
        writes.is_multiple_of(4) && (4..=40).contains(&writes),
        "{report}"
    );
    assert!(field(&report, "cpu_us") > 0, "{report}");
    assert!(field(&report, "wall_us") >= 1_000_000, "{report}");

    let per_connection = frames / 4;
    for reader in readers {
        let bytes = reader.join().unwrap();
        assert_eq!(bytes.len() as u64, per_connection * 200);
        // Each frame: FIN and text, the 16-bit length 196, the payload.
        for frame in bytes.chunks(200) {
            assert_eq!(frame[..4], [0x81, 126, 0, 196]);
            assert!(frame[4..].iter().all(|&b| b == b'x'));
        }
    }
}

#[test]
fn a_short_frame_has_a_one_byte_length() {
    let (mut writer, _out, port) = start(&["1", "10", "1", "1", "50"]);
    let bytes = drain(TcpStream::connect(("127.0.0.1", port)).unwrap());
    assert!(writer.wait().unwrap().success());
    assert!(!bytes.is_empty() && bytes.len().is_multiple_of(50));
    for frame in bytes.chunks(50) {
        assert_eq!(frame[..2], [0x81, 48]);
    }
}

#[test]
fn arguments_it_cannot_honour_are_refused_with_a_reason() {
    for (args, reason) in [
        (&["0", "10", "1", "1", "200"][..], "above zero"),
        (&["1", "10", "0", "1", "200"][..], "above zero"),
        (&["1", "10", "1", "1", "128"][..], "no frame of 128 bytes"),
        (&["1", "10", "1", "1", "2"][..], "3 to 1,024 bytes"),
        (&["1", "10", "1"][..], "usage"),
        (&["1", "ten", "1", "1", "200"][..], "whole numbers"),
    ] {
        let out = Command::new(WRITER).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(reason), "{args:?}: {said}");
    }
}
