//! Own messages on their way: confirmed, refused, retried.

use super::*;

fn outgoing(id: &str, r: &str, text: &str) -> Outgoing {
    Outgoing {
        id: MessageId::try_from(id).unwrap(),
        room: room(r),
        action: Action::Say(MessageText::try_from(text).unwrap()),
        failed: None,
    }
}

#[test]
fn the_outbox_empties_as_messages_are_confirmed() {
    let mut s = in_lobby();
    s.queue(outgoing("a", "lobby", "one"));
    s.queue(outgoing("b", "lobby", "two"));
    // A reconnect resumes the room, then resends both, one at a time
    // and in order.
    let resume = s.resume();
    assert!(matches!(&resume[..], [ClientMsg::Join { since: None, .. }]));
    let sent_id = |s: &mut ChatState| match s.next_say(0.0) {
        Next::Send(ClientMsg::Say { id: Some(id), .. }) => id.to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(sent_id(&mut s), "a");
    assert_eq!(s.next_say(0.0), Next::Idle, "one in flight at a time");
    // The stored copy confirms it, whoever's name it carries now.
    let mut first = said("lobby", 7, "someone-renamed", "one");
    if let ServerMsg::Said { id, .. } = &mut first {
        *id = Some(MessageId::try_from("a").unwrap());
    }
    s.apply(first, 0.0);
    assert!(matches!(
        s.current_room().unwrap().lines.last().unwrap().kind,
        LineKind::Said { own: true, .. }
    ));
    assert_eq!(sent_id(&mut s), "b");
    // An ack alone (a retry of something stored before) confirms too.
    s.apply(
        ServerMsg::Ack {
            id: MessageId::try_from("b").unwrap(),
            room: RoomName::lobby(),
            seq: Seq(8),
        },
        0.0,
    );
    assert!(s.outbox.is_empty());
    // Resuming now starts after the newest message shown.
    assert!(matches!(
        s.resume()[0],
        ClientMsg::Join {
            since: Some(Seq(7)),
            ..
        }
    ));
}

#[test]
fn refused_messages_fail_unless_worth_retrying() {
    let mut s = in_lobby();
    s.queue(outgoing("slow", "lobby", "x"));
    s.queue(outgoing("bad", "lobby", "y"));
    let refuse = |id: &str, code| ServerMsg::Error {
        code,
        message: "no".into(),
        request: Some("say".into()),
        room: Some(RoomName::lobby()),
        retry_after_ms: None,
        id: Some(MessageId::try_from(id).unwrap()),
    };
    assert!(matches!(s.next_say(0.0), Next::Send(_)));
    s.apply(refuse("slow", ErrorCode::RateLimited), 0.0);
    assert_eq!(s.send_problem, None, "waiting is not a problem to show");
    s.apply(refuse("bad", ErrorCode::NotInRoom), 0.0);
    assert_eq!(s.outbox[0].failed, None, "still pending");
    assert_eq!(s.outbox[1].failed, Some(ErrorCode::NotInRoom));
    assert_eq!(s.waiting(), 1);
    // The one over the limit goes again after the wait it was given.
    assert_eq!(s.next_say(0.0), Next::Wait(2_000));
    assert!(matches!(
        s.next_say(2_000.0),
        Next::Send(ClientMsg::Say { .. })
    ));
    let again = s.retry(&MessageId::try_from("bad").unwrap()).unwrap();
    assert_eq!(again.failed, None);
    assert_eq!(s.waiting(), 2);
}
