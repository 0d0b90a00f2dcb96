"""The Mail API client against the double, in-process (retries timed with a fake sleep)."""

from __future__ import annotations

import pytest
from ansible_collections.listserver.mailman3.plugins.module_utils.provider_aliases import (
    MailApiClient,
    MailApiError,
)
from mail_api_double import MailApiDouble

WRONG_BEARER = "not-the-token-xyz"
SCOPELESS_BEARER = "scopeless-token-123"


def client(
    double: MailApiDouble,
    delays: list[float],
    token: str | None = None,
    mailbox: str = "mailman",
    hosting: str = "1234",
    max_retries: int = 3,
) -> MailApiClient:
    return MailApiClient(
        token=double.state.token if token is None else token,
        mail_hosting_id=hosting,
        mailbox=mailbox,
        base_url=double.url,
        timeout=5,
        max_retries=max_retries,
        retry_delay=0.5,
        sleep=delays.append,
    )


def test_list_add_delete_use_the_documented_calls(mail_api_double: MailApiDouble) -> None:
    api = client(mail_api_double, [])
    assert api.list_aliases() == []
    assert api.aliases_enabled is True
    api.add_alias("team")
    api.delete_alias("team")
    assert [(c.method, c.path, c.body) for c in mail_api_double.log] == [
        ("GET", "/1/mail_hostings/1234/mailboxes/mailman/aliases", None),
        ("POST", "/1/mail_hostings/1234/mailboxes/mailman/aliases", {"alias": "team"}),
        ("DELETE", "/1/mail_hostings/1234/mailboxes/mailman/aliases/team", None),
    ]
    assert all(c.authorization == "Bearer test-token-0123456789" for c in mail_api_double.log)


def test_429_waits_for_retry_after_then_succeeds(mail_api_double: MailApiDouble) -> None:
    mail_api_double.set_aliases(["info"])
    mail_api_double.inject(429, count=2, retry_after="1")
    delays: list[float] = []
    assert client(mail_api_double, delays).list_aliases() == ["info"]
    assert delays == [1.0, 1.0]
    assert [c.status for c in mail_api_double.log] == [429, 429, 200]


def test_5xx_backs_off_exponentially_then_gives_up(mail_api_double: MailApiDouble) -> None:
    mail_api_double.inject(503, count=10)
    delays: list[float] = []
    with pytest.raises(MailApiError, match=r"HTTP 503.*gave up after 4 attempts") as caught:
        client(mail_api_double, delays, max_retries=3).list_aliases()
    assert delays == [0.5, 1.0, 2.0]
    assert caught.value.status == 503
    assert len(mail_api_double.log) == 4


def test_429_without_retry_after_backs_off_too(mail_api_double: MailApiDouble) -> None:
    mail_api_double.inject(429, count=1)
    delays: list[float] = []
    client(mail_api_double, delays).list_aliases()
    assert delays == [0.5]


def test_unreachable_api_is_retried_and_named(mail_api_double: MailApiDouble) -> None:
    url = mail_api_double.url
    mail_api_double.stop()
    delays: list[float] = []
    api = MailApiClient(
        "tok-abcdef",
        "1234",
        "mailman",
        base_url=url,
        max_retries=1,
        retry_delay=0,
        sleep=delays.append,
    )
    with pytest.raises(MailApiError, match=f"cannot reach {url}"):
        api.list_aliases()
    assert delays == [0]


def test_401_says_the_token_is_wrong_or_expired(mail_api_double: MailApiDouble) -> None:
    with pytest.raises(MailApiError, match="wrong or expired") as caught:
        client(mail_api_double, [], token=WRONG_BEARER).list_aliases()
    assert caught.value.status == 401
    assert WRONG_BEARER not in str(caught.value)


def test_403_says_the_token_lacks_the_scope(mail_api_double: MailApiDouble) -> None:
    mail_api_double.state.scopeless_tokens.add(SCOPELESS_BEARER)
    with pytest.raises(MailApiError, match="lacks the mail scope"):
        client(mail_api_double, [], token=SCOPELESS_BEARER).list_aliases()


@pytest.mark.parametrize(("hosting", "mailbox"), [("9999", "mailman"), ("1234", "other")])
def test_404_names_the_hosting_and_mailbox(
    mail_api_double: MailApiDouble, hosting: str, mailbox: str
) -> None:
    with pytest.raises(
        MailApiError, match=f"Unknown mail hosting {hosting} or mailbox '{mailbox}'"
    ):
        client(mail_api_double, [], hosting=hosting, mailbox=mailbox).list_aliases()


def test_404_with_a_full_address_says_to_give_the_local_part(
    mail_api_double: MailApiDouble,
) -> None:
    with pytest.raises(MailApiError, match="must be the local part") as caught:
        client(mail_api_double, [], mailbox="mailman@example.org").list_aliases()
    assert "'mailman'" in str(caught.value)
    assert mail_api_double.log[0].path.endswith("/mailboxes/mailman%40example.org/aliases")


def test_posting_an_existing_alias_is_an_error(mail_api_double: MailApiDouble) -> None:
    mail_api_double.set_aliases(["team"])
    with pytest.raises(MailApiError, match="alias_already_exists") as caught:
        client(mail_api_double, []).add_alias("team")
    assert caught.value.status == 400


def test_an_empty_token_is_refused_before_any_call(mail_api_double: MailApiDouble) -> None:
    with pytest.raises(MailApiError, match="no Mail API token"):
        client(mail_api_double, [], token="").list_aliases()
    assert mail_api_double.log == []
