//! What a session hands to the writer: messages (`say`), and changes to
//! them (`edit`, `delete`, `react`). Each is answered once stored, or refused.
//!
//! Who may change a message is decided twice: here, what the connection
//! is (signed in; a moderator of the room, for someone else's message), and
//! in the store's transaction, whose message it is (see
//! `store/changes.rs`), so that the answer holds on every node.

use natter_shared::{MessageId, RoomRole};

use super::requests::Act;
use super::*;
use crate::store::{Draft, DraftKind, mentions_room};

/// Most followers of a room where anyone may mention `@room`.
const ROOM_MENTION_MAX: u64 = 50;

impl Session {
    /// `say`, `edit`, `delete` or `react`: checks it, hands it to the writer, and
    /// answers it once stored (an `ack` when it has an id).
    pub(super) async fn write(&mut self, msg: ClientMsg, app: &AppState) -> Result<(), Failure> {
        let room = msg.room().expect("say, edit, delete and react name a room");
        let member = self.member(room)?;
        self.quotas.take(Kind::Say, 0)?;
        self.guest_may(app, Act::Post)?;
        let author = self.signed.as_ref().map(|s| s.account);
        let kind = match &msg {
            ClientMsg::Say { text, .. } => DraftKind::Message(text.clone()),
            ClientMsg::Edit { seq, text, .. } => DraftKind::Edit {
                target: *seq,
                text: text.clone(),
            },
            ClientMsg::Delete { seq, .. } => DraftKind::Delete {
                target: *seq,
                moderator: self.moderates(app, &member).await?,
            },
            ClientMsg::React { seq, emoji, on, .. } => DraftKind::React {
                target: *seq,
                emoji: emoji.clone(),
                on: *on,
            },
            _ => unreachable!("only say, edit, delete and react are written"),
        };
        if author.is_none() && !matches!(kind, DraftKind::Message(_)) {
            return Err(Failure::SignInRequired("change or react to messages"));
        }
        self.may_mention_room(app, &member, &kind).await?;
        let id = msg.id().cloned();
        let draft = Draft {
            room: member.room,
            nick: member.nick.clone(),
            kind,
            origin: id.clone().map(|id| (self.device.clone(), id)),
            author,
        };
        let receipt = app.writer.submit(draft).await?;
        // Saying something ends "is typing"; let the next one through.
        self.typing.remove(&member.name.key());
        self.answer_when_stored(msg, member, id, receipt);
        Ok(())
    }

    /// `@room` in a room followed by more than [`ROOM_MENTION_MAX`]
    /// accounts is for its owner and moderators only.
    async fn may_mention_room(
        &mut self,
        app: &AppState,
        member: &Member,
        kind: &DraftKind,
    ) -> Result<(), Failure> {
        let text = match kind {
            DraftKind::Message(text) | DraftKind::Edit { text, .. } => text.as_str(),
            DraftKind::Delete { .. } | DraftKind::React { .. } => return Ok(()),
        };
        if !text.contains('@') || !mentions_room(text) {
            return Ok(());
        }
        if app.store.followers(member.room).await? > ROOM_MENTION_MAX
            && !self.moderates(app, member).await?
        {
            return Err(Failure::NotAllowed(
                "mention @room where more than 50 people follow it",
            ));
        }
        Ok(())
    }

    /// Whether this connection moderates `member`'s room: its owner or a
    /// moderator (the server's owner and admins own every room).
    async fn moderates(&mut self, app: &AppState, member: &Member) -> Result<bool, Failure> {
        let role = self.room_role(app, member.room).await?;
        Ok(matches!(role, Some(RoomRole::Owner | RoomRole::Moderator)))
    }

    /// Answers `request` once its receipt resolves; meanwhile the session
    /// reads on, so one connection's messages share disk flushes too.
    fn answer_when_stored(
        &mut self,
        request: ClientMsg,
        member: Member,
        id: Option<MessageId>,
        receipt: crate::writer::Receipt,
    ) {
        let storing = self.storing.get_or_insert_with(FuturesOrdered::new);
        storing.push_back(Box::pin(async move {
            let answer = match receipt.await {
                Ok(seq) => {
                    metrics::counter!("natter_messages_in_total").increment(1);
                    Ok(id.map(|id| {
                        let room = member.name;
                        Frame::of(&ServerMsg::Ack { id, room, seq })
                    }))
                }
                Err(err) => Err(err.into()),
            };
            (request, answer)
        }));
    }
}
