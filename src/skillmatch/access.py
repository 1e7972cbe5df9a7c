"""Who may call the API: keys with roles, stored only as salted hashes, and the audit log of
talent searches (the one place candidate-level data leaves SkillMatch).

A SQLite file rather than the warehouse: the warehouse is replaced wholesale by every
published run and read-only for servers, while keys are created and revoked (`skillmatch
keys`) and searches audited while servers run, from several processes at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROLES = ("consortium", "institution", "employer", "admin")
# What each role may do. Aggregate figures only for consortia; institutions add their
# catalogue, badge alignment and learner advice; employers add talent search (candidate-level
# data); admins manage keys and nothing else.
PERMISSIONS: dict[str, frozenset[str]] = {
    "consortium": frozenset({"mapping", "taxonomy", "demand"}),
    "institution": frozenset({"mapping", "taxonomy", "demand", "catalogue", "learners"}),
    "employer": frozenset({"mapping", "taxonomy", "demand", "catalogue", "learners",
                           "talent"}),
    "admin": frozenset({"keys"}),
}
KEY_PREFIX = "sm"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_key (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    salt BLOB NOT NULL,
    secret_hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS talent_search_audit (
    audit_id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL,
    searched_at TEXT NOT NULL,
    query_hash TEXT NOT NULL,
    candidates_returned INTEGER NOT NULL
);
"""


class AccessError(ValueError):
    """A key operation that cannot be done (unknown role, unknown key)."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None = None

    def may(self, permission: str) -> bool:
        return self.revoked_at is None and permission in PERMISSIONS.get(self.role, ())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _hash(salt: bytes, secret: str) -> bytes:
    # the secret is 32 random bytes: a slow KDF would add latency to every request and no
    # protection (nobody guesses 256 bits); the salt keeps equal secrets' hashes apart
    return hashlib.sha256(salt + secret.encode()).digest()


class KeyStore:
    """Keys and the audit log in one SQLite file (WAL: readers never wait for a writer)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (a server thread keeps one: opening one per request
        cost more than the query), one transaction per use."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=10)
            # WAL + NORMAL: a commit survives a crash of the process, and needs no fsync
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
        with con:  # one transaction: committed on success, rolled back on error
            yield con

    def create(self, role: str, name: str) -> tuple[ApiKey, str]:
        """A new key; the returned secret key is shown once and never stored."""
        if role not in ROLES:
            raise AccessError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        name = name.strip()[:200] or role
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        key = ApiKey(key_id, name, role, _now())
        with self._connect() as con:
            con.execute("INSERT INTO api_key VALUES (?, ?, ?, ?, ?, ?, NULL)",
                        (key_id, name, role, salt, _hash(salt, secret), key.created_at))
        return key, f"{KEY_PREFIX}_{key_id}_{secret}"

    def list(self) -> list[ApiKey]:
        with self._connect() as con:
            rows = con.execute("SELECT key_id, name, role, created_at, revoked_at FROM api_key "
                               "ORDER BY created_at, key_id").fetchall()
        return [ApiKey(*row) for row in rows]

    def revoke(self, key_id: str) -> ApiKey:
        with self._connect() as con:
            done = con.execute("UPDATE api_key SET revoked_at = ? WHERE key_id = ? AND "
                               "revoked_at IS NULL", (_now(), key_id)).rowcount
            row = con.execute("SELECT key_id, name, role, created_at, revoked_at FROM api_key "
                              "WHERE key_id = ?", (key_id,)).fetchone()
        if row is None:
            raise AccessError(f"no key {key_id!r}")
        if not done:
            raise AccessError(f"key {key_id!r} was already revoked at {row[4]}")
        return ApiKey(*row)

    def verify(self, presented: str) -> ApiKey | None:
        """The live key behind a presented secret key, or None (unknown, wrong or revoked)."""
        prefix, _, rest = presented.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != KEY_PREFIX or not key_id or not secret or len(presented) > 200:
            return None
        with self._connect() as con:
            row = con.execute("SELECT key_id, name, role, created_at, revoked_at, salt, "
                              "secret_hash FROM api_key WHERE key_id = ?", (key_id,)).fetchone()
        if row is None or row[4] is not None:
            return None
        if not hmac.compare_digest(_hash(row[5], secret), row[6]):
            return None
        return ApiKey(*row[:5])

    def record_search(self, key_id: str, query_hash: str, candidates_returned: int) -> None:
        with self._connect() as con:
            con.execute("INSERT INTO talent_search_audit (key_id, searched_at, query_hash, "
                        "candidates_returned) VALUES (?, ?, ?, ?)",
                        (key_id, _now(), query_hash, candidates_returned))

    def searches(self, limit: int = 100) -> list[dict]:
        """The latest audited talent searches, newest first."""
        with self._connect() as con:
            cur = con.cursor()  # rows as mappings here only: the connection is shared
            cur.row_factory = sqlite3.Row
            rows = cur.execute("SELECT * FROM talent_search_audit ORDER BY audit_id DESC "
                               "LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in rows]


def query_hash(payload: object) -> str:
    """A stable hash of a search query (the audit keeps no query text)."""
    import json

    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
