"""The short paths an answer takes (issue 10's latency): one transaction per question,
the answer claimed as it is queued, the chat's next call claimed as the previous one
is recorded, an update kept by the worker that owns its chat; and that none of them
gives up an ordering or a claim."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text

from bot.inbox import Inbox, Stored, owner
from bot.intents import Say
from bot.outbox import Outbox
from bot.storage import Database, Person

ANA, BEN = 111, 222
LEASE = timedelta(seconds=30)


def say(*texts: str) -> list[Say]:
    return [Say(t, []) for t in texts]


def test_an_answer_to_a_quiet_chat_is_claimed_as_it_is_queued(database: Database) -> None:
    mine, other = Outbox(database, worker="a"), Outbox(database, worker="b")
    [call] = mine.queue_replies(ANA, say("one", "two")) or []
    assert call.intent == Say("one", [])
    assert other.look()[0] == []             # claimed: no other worker sends it
    assert [c.id for c in mine.look()[0]] == [call.id]  # a look of its own worker finds it


def test_an_answer_behind_a_waiting_call_waits_its_turn(database: Database) -> None:
    outbox = Outbox(database)
    [first] = outbox.queue_replies(ANA, say("first")) or []
    assert outbox.queue_replies(ANA, say("second")) == []
    assert outbox.queue_replies(BEN, say("other chat")) != []
    went, following = outbox.sent_then_next(first, message_id=1)
    assert went and following is not None and following.intent == Say("second", [])
    assert outbox.sent_then_next(following, message_id=2) == (True, None)


def test_a_reply_queued_again_for_the_same_update_is_dropped(database: Database) -> None:
    outbox = Outbox(database)
    assert outbox.queue_replies(ANA, say("hi"), update_key=(7, 0))
    assert outbox.queue_replies(ANA, say("hi"), update_key=(7, 0)) is None


def test_each_reply_of_an_update_is_queued_once_however_many_calls_they_make(
        database: Database) -> None:
    outbox = Outbox(database)
    assert outbox.queue_replies(ANA, say("one", "two"), update_key=(7, 0)) is not None
    assert outbox.queue_replies(ANA, say("three"), update_key=(7, 1)) == []
    # Handled again after a crash: the same replies in the same order add nothing.
    assert outbox.queue_replies(ANA, say("one", "two"), update_key=(7, 0)) is None
    assert outbox.queue_replies(ANA, say("three"), update_key=(7, 1)) is None
    sent = []
    while (found := outbox.look()[0]):
        for call in found:
            sent.append(call.intent)
            outbox.sent_then_next(call, message_id=len(sent))
    assert sent == say("one", "two", "three")


def test_sessions_inside_a_session_commit_or_roll_back_with_it(database: Database) -> None:
    with database.session() as outer, database.session() as inner:
        assert inner is outer
        inner.add(Person(telegram_user_id=ANA, language_code="sq"))
    with pytest.raises(RuntimeError), database.session():
        with database.session() as inner:
            inner.add(Person(telegram_user_id=BEN, language_code="en"))
        raise RuntimeError("the question's handling failed")
    with database.session() as session:
        assert session.scalars(select(Person.telegram_user_id)).all() == [ANA]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_connection_the_server_dropped_is_replaced_without_an_error(
        database: Database) -> None:
    with database.session() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(database.engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            # Gone, as after a restart (not in the instant the server is closing it).
            while connection.execute(text("SELECT count(*) FROM pg_stat_activity "
                                          "WHERE pid = :pid"), {"pid": pid}).scalar():
                time.sleep(0.01)
    finally:
        admin.dispose()
    with database.session() as session:  # the pooled connection is dead: a new one
        assert session.execute(text("SELECT pg_backend_pid()")).scalar() != pid


def update(update_id: int, chat: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {"chat": {"id": chat}}}


def test_the_receiving_worker_keeps_its_chat_unless_an_earlier_update_waits(
        database: Database) -> None:
    inbox = Inbox(database)
    assert inbox.store(1, update(1, ANA), chat_id=ANA, user_id=ANA, claim_for="w0",
                       lease=LEASE) is Stored.CLAIMED
    assert inbox.store(2, update(2, ANA), chat_id=ANA, user_id=ANA, claim_for="w0",
                       lease=LEASE) is Stored.STORED  # behind update 1
    assert inbox.store(2, update(2, ANA), chat_id=ANA, user_id=ANA) is Stored.DUPLICATE
    assert inbox.claim("w1", LEASE) == []  # 1 is held, 2 waits behind it
    inbox.done(1)
    assert [w.update_id for w in inbox.claim("w1", LEASE)] == [2]


def test_a_worker_woken_for_its_chats_claims_only_those(database: Database) -> None:
    inbox = Inbox(database)
    chats = [-1001, -1002, 1003, 1004, 1005, 1006]
    for number, chat in enumerate(chats, start=1):
        inbox.store(number, update(number, chat), chat_id=chat, user_id=None)
    for index in range(3):
        taken = inbox.claim(f"w{index}", LEASE, share=(index, 3))
        assert {chats[w.update_id - 1] for w in taken} == {c for c in chats if owner(c, 3) == index}
