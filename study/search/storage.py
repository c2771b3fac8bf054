"""Study storages by URL: a journal file or SQLite (no server), or PostgreSQL (many workers).

URLs as Optuna users type them: a journal file's path (what `optuna-dashboard` and the `optuna` CLI take;
`journal:<path>` is an alias), `sqlite:///<path>`, and any SQLAlchemy URL such as
`postgresql://user:password@host:port/db`. `study_lock` serialises the few operations
that must not race between drivers (creating a study, adding its trials, requeueing a dead worker's trial):
an flock beside a file storage, a PostgreSQL advisory lock on a server.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

import optuna

from gan_study.study.config import ConfigError
from gan_study.study.search.credentials import masked
from gan_study.study.search.optuna_adapter import journal_storage

JOURNAL_PREFIX = "journal:"
_OPEN: dict[tuple[int, str], optuna.storages.BaseStorage] = {}


def storage_kind(url: str) -> str:
    """'journal' (a path without a scheme, as Optuna's CLI reads it), 'sqlite', 'postgresql' or another dialect."""
    if url.startswith(JOURNAL_PREFIX) or "://" not in url:
        if not url.removeprefix(JOURNAL_PREFIX).strip():
            raise ValueError(f"storage.url = {url!r} is not allowed: a journal file path such as "
                             "studies/gan-study.journal, sqlite:///<path> or a database URL such as "
                             "postgresql://user:password@host:5432/db")
        return "journal"
    return url.split("://", 1)[0].split("+", 1)[0]


def storage_file(url: str) -> Path | None:
    """The file behind a journal or SQLite URL (None for a server)."""
    kind = storage_kind(url)
    if kind == "journal":
        return Path(url.removeprefix(JOURNAL_PREFIX))
    if kind == "sqlite":
        path = url.split("://", 1)[1].removeprefix("/")
        return None if path in ("", ":memory:") else Path(path)
    return None


def absolute_url(url: str) -> str:
    """The same storage, named so that a worker started in any directory finds it."""
    path = storage_file(url)
    if path is None or path.is_absolute():
        return url
    path = path.absolute()
    if storage_kind(url) == "sqlite":
        return f"sqlite:///{path}"
    return f"{JOURNAL_PREFIX}{path}" if url.startswith(JOURNAL_PREFIX) else str(path)


def dashboard_argument(url: str) -> str:
    """What `optuna-dashboard` takes for this storage (a journal is given as its file path)."""
    return str(storage_file(url)) if storage_kind(url) == "journal" else url


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """One storage object per process and URL (RDB engines must not cross a fork)."""
    key = (os.getpid(), url)
    if key not in _OPEN:
        _OPEN[key] = _create_storage(url)
    return _OPEN[key]


def open_existing_storage(url: str) -> optuna.storages.BaseStorage:
    """The storage at `url` for a command that only reads it: a missing journal or SQLite file is an error,
    never created (an empty storage at a mistyped path would hide the typo)."""
    path = storage_file(url)
    if path is not None and not path.is_file():
        raise ConfigError(f"storage.url = {url!r} is not allowed: {path} does not exist (a command that only reads a "
                                "storage never creates one)")
    return open_storage(url)


def _create_storage(url: str) -> optuna.storages.BaseStorage:
    kind = storage_kind(url)
    path = storage_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "journal":
        return journal_storage(str(path))
    import sqlalchemy.exc

    try:
        return _database_storage(url, kind, path)
    except (sqlalchemy.exc.NoSuchModuleError, sqlalchemy.exc.ArgumentError) as error:
        raise ConfigError(f"storage.url = {masked(url)!r} is not allowed ({error}): a journal file path, "
                         "sqlite:///<path> or a database URL such as postgresql://user@host:5432/db") from None
    except sqlalchemy.exc.OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        raise ConfigError(f"storage.url = {masked(url)!r}: cannot open the database: {reason}") from None


def _database_storage(url: str, kind: str, path: Path | None) -> optuna.storages.BaseStorage:
    # The first RDBStorage on an empty database creates the schema; two at once collide (infra NOTES 7).
    if kind == "sqlite":
        with _file_lock(path.with_name(f"{path.name}.schema.lock"), 600.0) if path else nullcontext():
            # concurrent writers wait for SQLite's lock instead of failing at once
            storage = optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 120}})
        _serialise_sqlite(storage.engine)
        return storage
    if kind == "postgresql":
        _require_postgres_driver(url)
        with _advisory_lock(url, "gan-study schema"):
            return optuna.storages.RDBStorage(url)
    return optuna.storages.RDBStorage(url)


def _require_postgres_driver(url: str) -> None:
    """The drivers are an extra: say how to get them instead of SQLAlchemy's bare ModuleNotFoundError."""
    from sqlalchemy.engine import make_url

    dialect = make_url(url).get_dialect()  # postgresql:// is psycopg (3) from SQLAlchemy 2.1 on, psycopg2 before
    try:
        dialect.import_dbapi()
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(f"storage.url = postgresql...: its driver {error.name} is missing: "
                                  "pip install 'gan-study[postgres]'") from error


def _serialise_sqlite(engine) -> None:
    """Make every SQLite transaction take the write lock when it begins.

    Python's sqlite3 opens a transaction only at the first write, so Optuna's claim (read the state, then
    write RUNNING) is not atomic there: two workers can both read WAITING and both claim the trial. With
    BEGIN IMMEDIATE the second claim waits for the first to commit, then reads RUNNING and backs off.
    (SQLAlchemy's recipe for SQLite transactions; new connections only, hence the pool is emptied.)
    """
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection, connection_record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()


@contextmanager
def study_lock(url: str, study_name: str, timeout_s: float = 600.0) -> Iterator[None]:
    """Exclusive section for one study across processes and machines sharing the storage."""
    kind = storage_kind(url)
    path = storage_file(url)
    if path is not None:
        with _file_lock(path.with_name(f"{path.name}.{_digest(study_name)}.lock"), timeout_s):
            yield
    elif kind == "postgresql":
        with _advisory_lock(url, f"gan-study study {study_name}", timeout_s):
            yield
    else:
        raise ValueError(f"storage.url: {kind} is not supported for concurrent drivers; use a journal file, "
                         "SQLite or PostgreSQL")


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


@contextmanager
def _file_lock(path: Path, timeout_s: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{path} stayed locked for {timeout_s:.0f} s") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(url: str, name: str, timeout_s: float = 600.0) -> Iterator[None]:
    """A PostgreSQL session advisory lock, released on exit (or by the server if this process dies)."""
    import sqlalchemy

    key = int.from_bytes(hashlib.sha1(name.encode()).digest()[:8], "big", signed=True)
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(f"SET lock_timeout = {int(timeout_s * 1000)}"))
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        engine.dispose()
