"""RpcBook: matching answers to requests, deadlines, late and unknown answers,
close, error answers: each rule without a socket, a clock or an event loop."""

from __future__ import annotations

import pytest

from vuer_ros.protocol import ClientEvent, GrabRenderRequest, ServerRPC
from vuer_ros.protocol.errors import GrabError, RpcError
from vuer_ros.protocol.rpc import Answered, GaveUp, Late, RpcBook, Unknown, answer_error


def answer(request: ServerRPC, value: object = None) -> ClientEvent:
    return ClientEvent(request.rtype, value if value is not None else {"frame": b"jpg"}, key=request.key)


def test_an_answer_matches_its_request_by_rtype_and_leaves_the_book():
    book = RpcBook()
    grab, other = GrabRenderRequest("cam"), GrabRenderRequest("cam")
    book.register(grab, deadline=2.0)
    book.register(other, deadline=3.0)
    assert grab.rtype == f"GRAB_RENDER_RESPONSE@{grab.uuid}" and grab.rtype in book and len(book) == 2
    event = answer(grab)
    match = book.match(event)
    assert match == Answered(grab, event)
    assert grab.rtype not in book and [p.request for p in book.pending] == [other]
    assert book.match(event) == Unknown(event)  # a second answer to the same request is not matched again


def test_client_events_that_are_not_answers_are_none_to_the_book():
    book = RpcBook()
    book.register(GrabRenderRequest(), deadline=None)
    assert book.match(ClientEvent("CAMERA_MOVE", {"camera": {}})) is None
    assert book.match(ClientEvent("INIT", {})) is None
    assert len(book) == 1


def test_an_answer_nobody_asked_for_is_unknown():
    book = RpcBook()
    event = ClientEvent("GRAB_RENDER_RESPONSE@never-asked", {})
    assert book.match(event) == Unknown(event)


def test_expire_gives_up_on_requests_past_their_deadline_earliest_first():
    book = RpcBook()
    late, early, never, later = (GrabRenderRequest(k) for k in ("late", "early", "never", "later"))
    book.register(late, deadline=5.0)
    book.register(early, deadline=1.0)
    book.register(never, deadline=None)
    book.register(later, deadline=9.0)
    assert book.next_deadline() == 1.0
    assert book.expire(0.999) == []
    assert book.expire(5.0) == [early, late]  # a deadline equal to now is past
    assert book.next_deadline() == 9.0
    assert [p.request for p in book.pending] == [never, later]
    assert book.expire(1e9) == [later]
    assert book.next_deadline() is None and [p.request for p in book.pending] == [never]


def test_an_answer_after_the_deadline_is_late_once():
    book = RpcBook()
    grab = GrabRenderRequest("cam")
    book.register(grab, deadline=1.0)
    assert book.expire(1.5) == [grab]
    event = answer(grab)
    assert book.match(event) == Late(grab, event, GaveUp.TIMED_OUT)
    assert book.match(event) == Unknown(event)  # reported late once; a repeat is just unknown


def test_a_withdrawn_request_is_not_pending_and_its_answer_is_late():
    book = RpcBook()
    grab = GrabRenderRequest()
    book.register(grab, deadline=1.0)
    assert book.withdraw(grab.rtype) is grab
    assert book.withdraw(grab.rtype) is None  # nothing to withdraw twice
    assert book.expire(2.0) == [] and book.next_deadline() is None
    event = answer(grab)
    assert book.match(event) == Late(grab, event, GaveUp.WITHDRAWN)


def test_withdrawing_an_answered_or_expired_request_changes_nothing():
    book = RpcBook()
    answered, expired = GrabRenderRequest("a"), GrabRenderRequest("b")
    book.register(answered, deadline=1.0)
    book.register(expired, deadline=1.0)
    book.match(answer(answered))
    assert book.expire(1.0) == [expired]
    assert book.withdraw(answered.rtype) is None and book.withdraw(expired.rtype) is None
    event = answer(expired)
    assert book.match(event) == Late(expired, event, GaveUp.TIMED_OUT)  # still reported as timed out


def test_close_fails_every_pending_request_and_refuses_new_ones():
    book = RpcBook()
    a, b = GrabRenderRequest("a"), ServerRPC("PING", {})
    book.register(a, deadline=1.0)
    book.register(b, deadline=None)
    assert book.close() == [a, b]
    assert book.closed and len(book) == 0 and book.next_deadline() is None
    assert book.close() == []
    with pytest.raises(RuntimeError, match="closed"):
        book.register(GrabRenderRequest(), deadline=None)
    event = answer(b)
    assert book.match(event) == Late(b, event, GaveUp.CLOSED)


def test_a_request_registered_twice_while_pending_is_refused():
    book = RpcBook()
    grab = GrabRenderRequest()
    book.register(grab, deadline=None)
    with pytest.raises(ValueError, match=grab.rtype):
        book.register(grab, deadline=None)
    book.match(answer(grab))
    book.register(grab, deadline=None)  # answered: the same request may be asked again
    assert grab.rtype in book


def test_only_the_latest_given_up_requests_are_remembered():
    book = RpcBook(remember=2)
    requests = [GrabRenderRequest(str(i)) for i in range(3)]
    for i, request in enumerate(requests):
        book.register(request, deadline=float(i))
    assert book.expire(10.0) == requests
    oldest = answer(requests[0])
    assert book.match(oldest) == Unknown(oldest)  # forgotten: too long ago
    assert isinstance(book.match(answer(requests[1])), Late)
    assert isinstance(book.match(answer(requests[2])), Late)
    with pytest.raises(ValueError):
        RpcBook(remember=-1)


def test_error_answers_are_grab_errors_for_grab_render_and_rpc_errors_otherwise():
    grab = GrabRenderRequest("no-such-camera")
    error = answer_error(grab, answer(grab, {"error": "no CameraView with key 'no-such-camera'"}), "s1 (fake)")
    assert isinstance(error, GrabError)
    assert (error.etype, error.key, error.error) == ("GRAB_RENDER", "no-such-camera",
                                                     "no CameraView with key 'no-such-camera'")
    assert "from session s1 (fake)" in str(error) and "failed in the browser" in str(error)
    ping = ServerRPC("PING", {}, key="k")
    error = answer_error(ping, answer(ping, {"error": "busy"}))
    assert type(error) is RpcError and str(error) == "PING key='k' failed in the browser: busy"
    assert answer_error(grab, answer(grab, {"frame": b"jpg", "error": None})) is None
    assert answer_error(grab, answer(grab, {"error": ""})) is None
    assert answer_error(grab, ClientEvent(grab.rtype, b"not a map")) is None
    event = answer(grab, {"error": "lost context"})
    match = RpcBook().match(event)
    assert match == Unknown(event)
    book = RpcBook()
    book.register(grab, deadline=None)
    answered = book.match(event)
    assert isinstance(answered, Answered) and isinstance(answered.error("s2"), GrabError)
