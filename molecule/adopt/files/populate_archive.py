"""Write the two lists' archives as mbox files, for HyperKitty's own importer.

200 posts over five years: the team list's 150 in 30 threads of five (replies carry
In-Reply-To and References), the announce list's 50 standalone; one post in ten has an
attachment (text or a small PNG), some subjects and senders are not ASCII. Deterministic:
the same files every run. Usage: populate_archive.py DIRECTORY
"""

from __future__ import annotations

import base64
import mailbox
import sys
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

NAMES = ["Zoë Müller", "Jürgen Groß", "李雷", "Ólafur Þór", "Anna Smith", "Chloé Lefèvre"]
START = datetime(2021, 3, 1, 9, 0, tzinfo=timezone.utc)  # noqa: UP017 (Debian 11: Python 3.9)
# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def post(number: int, listname: str, subject: str, ancestors: list[str]) -> EmailMessage:
    sender = number % 250 + (250 if listname == "announce" else 0)
    message = EmailMessage()
    message["From"] = formataddr(
        (f"{NAMES[sender % len(NAMES)]} {sender:03d}", f"m{sender:03d}@outside.test")
    )
    message["To"] = f"{listname}@lab.test"
    message["Subject"] = subject
    message["Date"] = format_datetime(START + timedelta(days=number * 9, minutes=number))
    message["Message-ID"] = f"<{listname}-{number:03d}@outside.test>"
    if ancestors:
        message["In-Reply-To"] = ancestors[-1]
        message["References"] = " ".join(ancestors)
    message.set_content(f"Post {number} to {listname}. Grüße, {NAMES[number % len(NAMES)]}.\n")
    if number % 10 == 3:
        message.add_attachment(
            f"notes of post {number}\n".encode(),
            maintype="text",
            subtype="plain",
            filename=f"notes-{number}.txt",
        )
    elif number % 10 == 7:
        message.add_attachment(PNG, maintype="image", subtype="png", filename=f"dot-{number}.png")
    return message


def team() -> list[EmailMessage]:
    posts = []
    for thread in range(30):
        topic = f"Topic {thread}" + (" — café réunion" if thread % 4 == 0 else "")
        for step in range(5):
            number = thread * 5 + step
            ancestors = [f"<team-{thread * 5 + s:03d}@outside.test>" for s in range(step)]
            subject = topic if step == 0 else f"Re: {topic}"
            posts.append(post(number, "team", subject, ancestors))
    return posts


def announce() -> list[EmailMessage]:
    return [post(number, "announce", f"Announcement {number}", []) for number in range(50)]


def write(directory: Path) -> None:
    for name, posts in (("team", team()), ("announce", announce())):
        path = directory / f"{name}.mbox"
        path.unlink(missing_ok=True)
        box = mailbox.mbox(path)
        for message in posts:
            box.add(message)
        box.flush()


if __name__ == "__main__":
    write(Path(sys.argv[1]))
