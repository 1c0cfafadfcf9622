//! The conversation: messages grouped by sender and day, own messages on
//! their way, older pages loaded on scrolling up, and who is typing.

use super::message::{Message, MessageActions, MessageBody, body};
use super::reactions::Reactions;
use super::*;

/// One row of the message list: a day separator or a line.
#[derive(Clone)]
pub(super) struct Row {
    key: String,
    day: Option<String>,
    line: Option<Line>,
    /// Follows a message by the same person: no name, time on hover.
    grouped: bool,
}

pub(super) fn rows(lines: &[Line], lang: Lang) -> Vec<Row> {
    let mut rows = Vec::with_capacity(lines.len() + 4);
    let mut last_day = None;
    let mut prev: Option<&Line> = None;
    for line in lines {
        if let Some(at) = line.at {
            let day = day_label(at, lang);
            if last_day.as_ref() != Some(&day) {
                rows.push(Row {
                    key: format!("day-{day}"),
                    day: Some(day.clone()),
                    line: None,
                    grouped: false,
                });
                last_day = Some(day);
                prev = None;
            }
        }
        let grouped = match (prev, line.author()) {
            (Some(p), Some(author)) => {
                p.author() == Some(author)
                    && matches!((p.at, line.at), (Some(a), Some(b)) if b.0.saturating_sub(a.0) < GROUP_WITHIN_MS)
            }
            _ => false,
        };
        rows.push(Row {
            key: format!("{}-{}", line.key, u8::from(grouped)),
            day: None,
            line: Some(line.clone()),
            grouped,
        });
        prev = Some(line);
    }
    rows
}

/// Where the reader is in the message list, and what it showed at the
/// last render: a page of older messages (keep the reader's place) is told
/// from new ones (follow or count).
#[derive(Clone, Default)]
pub(super) struct ListPlace {
    /// Follow new lines: the reader is at the bottom.
    stick: bool,
    height: i32,
    first: Option<u64>,
    last: Option<u64>,
    room: String,
}

#[component]
pub(super) fn MessageList(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let list = NodeRef::<Ol>::new();
    // Follow new lines only while the reader is at the bottom, so scrolling
    // up to read is never interrupted.
    let place = StoredValue::new(ListPlace {
        stick: true,
        ..ListPlace::default()
    });
    let unseen = RwSignal::new(0u32);
    let room_lines = Memo::new(move |_| {
        chat.state
            .with(|s| {
                s.current_room()
                    .map(|r| (r.name.to_string(), r.lines.clone()))
            })
            .unwrap_or_default()
    });
    let load_older = move || {
        let Some(room) = chat.state.with_untracked(|s| s.current.clone()) else {
            return;
        };
        if let Some(before) = chat.state.try_update(|s| s.want_older(&room)).flatten() {
            chat.send_paced(Paced::History, ClientMsg::History { room, before });
        }
    };
    let scroll_to_bottom = move || {
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        place.update_value(|p| p.stick = true);
        unseen.set(0);
    };
    let on_scroll = move |_| {
        let Some(el) = list.get_untracked() else {
            return;
        };
        let from_bottom = el.scroll_height() - el.scroll_top() - el.client_height();
        let at_bottom = from_bottom < AT_BOTTOM_WITHIN_PX;
        place.update_value(|p| p.stick = at_bottom);
        if at_bottom {
            unseen.set(0);
        }
        if el.scroll_top() < LOAD_OLDER_WITHIN_PX {
            load_older();
        }
    };
    keep_the_place(list, place, unseen, room_lines);
    let label = move || {
        room_lines.track();
        let room = chat
            .state
            .with_untracked(|s| s.current.as_ref().map(|r| s.label(r)));
        lang.get().messages_in(&room.unwrap_or_default())
    };
    view! {
        <div class="messages-wrap">
            <ol class="messages" data-testid="message-list" node_ref=list on:scroll=on_scroll
                aria-label=label tabindex="0">
                <HistoryEdge chat=chat load_older=load_older/>
                {keyed_list(move || {
                    room_lines
                        .with(|(_, lines)| rows(lines, lang.get()))
                        .into_iter()
                        .map(|row| Keyed::new(row.key.clone(), move || view! { <MessageRow chat=chat row=row/> }))
                        .collect()
                })}
                <PendingLines chat=chat list=list place=place/>
            </ol>
            <Show when=move || { unseen.get() > 0 }>
                <button type="button" class="new-messages" data-testid="new-messages"
                    on:click=move |_| scroll_to_bottom()>
                    {text(move || lang.get().new_messages(unseen.get()))}" ↓"
                </button>
            </Show>
        </div>
    }
}

/// Own messages on their way, shown after everything stored; the list
/// follows them while the reader is at the bottom.
#[component]
fn PendingLines(chat: Chat, list: NodeRef<Ol>, place: StoredValue<ListPlace>) -> impl IntoView {
    let pending = Memo::new(move |_| {
        chat.state.with(|s| {
            let current = s.current.as_ref().map(RoomName::key);
            s.outbox
                .iter()
                .filter(|o| Some(o.room.key()) == current && o.said().is_some())
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    Effect::new(move |_| {
        pending.track();
        if let Some(el) = list.get_untracked()
            && place.with_value(|p| p.stick)
        {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    });
    view! {
        {keyed_list(move || {
            pending
                .get()
                .into_iter()
                .map(|outgoing| Keyed::new(
                    format!("{}\u{0}{}", outgoing.id, outgoing.failed.is_some()),
                    move || view! { <PendingLine chat=chat outgoing=outgoing/> },
                ))
                .collect()
        })}
    }
}

/// Where the list scrolls when its lines change: a new room starts at its
/// newest line, older lines above keep the reader's place, new lines are
/// followed at the bottom, or counted in `unseen` above it.
fn keep_the_place(
    list: NodeRef<Ol>,
    place: StoredValue<ListPlace>,
    unseen: RwSignal<u32>,
    room_lines: Memo<(String, Vec<Line>)>,
) {
    Effect::new(move |_| {
        let (room, lines) = room_lines.get();
        let first = lines.first().map(|l| l.key);
        let last = lines.last().map(|l| l.key);
        let Some(el) = list.get() else { return };
        let old = place.get_value();
        let height = el.scroll_height();
        if room != old.room {
            // Another room: start at its newest line.
            el.set_scroll_top(height);
            place.update_value(|p| p.stick = true);
            unseen.set(0);
        } else if first != old.first && old.first.is_some() && last == old.last {
            // Older lines above: keep the same lines under the reader's eyes.
            el.set_scroll_top(el.scroll_top() + height - old.height);
        } else if last != old.last {
            if old.stick {
                el.set_scroll_top(height);
            } else {
                let new_lines = old
                    .last
                    .and_then(|k| lines.iter().position(|l| l.key == k))
                    .map_or(0, |i| lines.len() - i - 1);
                let new_messages = lines[lines.len() - new_lines..]
                    .iter()
                    .filter(|l| matches!(l.kind, LineKind::Said { own: false, .. }))
                    .count();
                unseen.update(|n| *n += new_messages as u32);
            }
        }
        place.update_value(|p| {
            p.first = first;
            p.last = last;
            p.room = room;
            p.height = el.scroll_height();
        });
    });
}
/// The top of the list: a button that loads older messages, or the start
/// of the room.
#[component]
fn HistoryEdge(chat: Chat, load_older: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let lang = use_lang();
    let more = move || {
        chat.state
            .with(|s| s.current_room().is_some_and(|r| r.more))
    };
    let loading = move || {
        chat.state
            .with(|s| s.current_room().is_some_and(|r| r.loading))
    };
    view! {
        <li class="history-edge">
            <Show
                when=more
                fallback=move || view! { <span class="start">{say(Lang::start_of_room)}</span> }
            >
                <button type="button" class="quiet" data-testid="load-older"
                    on:click=move |_| load_older() disabled=loading>
                    {text(move || if loading() { lang.get().loading() } else { lang.get().load_older() }.to_owned())}
                </button>
            </Show>
        </li>
    }
}

#[component]
pub(super) fn MessageRow(chat: Chat, row: Row) -> impl IntoView {
    let lang = use_lang();
    // A list holds list items only: a day and a refusal keep the `li`'s own
    // role, and the refusal's alert is inside it.
    if let Some(day) = row.day {
        return view! {
            <li class="day"><span>{day}</span></li>
        }
        .into_any();
    }
    let line = row.line.expect("a row is a day or a line");
    let time = line.at.map(|at| {
        let (short, full) = local_time(at);
        view! { <time class="time" title=full>{short}</time> }
    });
    match line.kind {
        LineKind::Said {
            seq,
            nick,
            text,
            own,
            edited,
            reactions,
        } => {
            let message = Message {
                seq,
                text,
                own,
                edited,
                reactions,
            };
            let mut class = String::from("line chat");
            if own {
                class.push_str(" own");
            }
            if row.grouped {
                class.push_str(" grouped");
            }
            view! {
                <li class=class data-testid="message" data-seq=seq.0.to_string()>
                    {time}" "
                    <span class="nick">{nick.to_string()}</span>
                    <span class="says">{say(Lang::says)}</span>
                    <MessageBody chat=chat message=message.clone()/>
                    <MessageActions chat=chat message=message.clone()/>
                    <Reactions chat=chat message=message/>
                </li>
            }
            .into_any()
        }
        LineKind::Refused(problem) => view! {
            <li class="line refused" data-testid="message">
                <span class="body" role="alert">{text(move || problem_text(lang.get(), &problem))}</span>
            </li>
        }
        .into_any(),
        kind => {
            let me = matches!(kind, LineKind::Joined { me: true, .. });
            let text = move || {
                let lang = lang.get();
                match &kind {
                    LineKind::Joined { nick, .. } => lang.comes_in(nick.as_str()),
                    LineKind::Left { nick } => lang.left(nick.as_str()),
                    LineKind::Renamed { from, to } => lang.renamed(from.as_str(), to.as_str()),
                    LineKind::Added { nick } => lang.member_added(nick.as_str()),
                    LineKind::MadePrivate => lang.made_private().to_owned(),
                    LineKind::Said { .. } | LineKind::Refused(_) => String::new(),
                }
            };
            view! {
                <li class="line system" data-testid="message">
                    {time}" "
                    <span class="body">{text}</span>
                    {me.then(|| view! { <span class="you">{say(Lang::you_suffix)}</span> })}
                </li>
            }
            .into_any()
        }
    }
}

/// An own message not yet confirmed stored: pending, or refused for good
/// (with a retry).
#[component]
pub(super) fn PendingLine(chat: Chat, outgoing: Outgoing) -> impl IntoView {
    let lang = use_lang();
    let failed = outgoing.failed.is_some();
    let id = outgoing.id.clone();
    let retry = move |_| {
        chat.state.update(|s| {
            s.retry(&id);
        });
        chat.pump();
    };
    let me = move || {
        chat.state
            .with(|s| s.me.as_ref().map(ToString::to_string).unwrap_or_default())
    };
    view! {
        <li class="line chat own pending" class:failed=failed data-testid="message"
            data-status=if failed { "failed" } else { "pending" }>
            <span class="nick">{me}</span>
            <span class="says">{say(Lang::says)}</span>
            <span class="body">{outgoing.said().map(body)}</span>
            " "
            <span class="send-state">
                {text(move || if failed { lang.get().not_sent() } else { lang.get().sending() }.to_owned())}
            </span>
            {failed.then(|| view! {
                <button type="button" class="quiet" data-testid="retry" on:click=retry>
                    {say(Lang::retry)}
                </button>
            })}
        </li>
    }
}

#[component]
pub(super) fn Typing(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let text = move || {
        let now = chat.now.get();
        let names = chat.state.with(|s| {
            s.current_room()
                .map(|r| r.typing_at(now))
                .unwrap_or_default()
        });
        lang.get().typing(&names)
    };
    view! { <p class="typing" data-testid="typing" aria-live="off">{text}</p> }
}
