"""Opening a trustdesk database safely, upgrading its schema, and backing it up.

A coach's confidences live in this file, so opening it is strict: a file that other
users can read, or that belongs to someone else, is refused with the command that
fixes it; a file that is not a trustdesk database is never touched; a schema newer
than this code is refused rather than half-understood.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import stat
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import peewee
from peewee import SQL
from playhouse.migrations import Runner
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase, PooledSqliteDatabase

from trustdesk import config
from trustdesk.literal import visible
from trustdesk.store import filesystems
from trustdesk.store.errors import StoreError, translated
from trustdesk.store.models import Coach, db

# "TDSK" in the SQLite header's application_id field marks a trustdesk database.
APPLICATION_ID = 0x5444534B
SQLITE_MAGIC = b"SQLite format 3\x00"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
HISTORY_TABLE = "schema_migration"
BUSY_TIMEOUT_MS = 10_000
# A borrowed connection older than this is closed instead of lent again.
STALE_SECONDS = 300


class AlreadyThere(StoreError):
    """A new file was asked for where a file (or link) already is."""


def first_line(exc: BaseException) -> str:
    """What a driver's error says, in one line (its first), for a one-line message."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sqlite_pragmas(journal_mode: str = "wal") -> dict[str, object]:
    return {
        "journal_mode": journal_mode,
        "foreign_keys": 1,
        "busy_timeout": BUSY_TIMEOUT_MS,
        # NORMAL is safe against power loss with WAL only; the rollback journal needs FULL.
        "synchronous": "normal" if journal_mode == "wal" else "full",
    }


def private_sidecars(path: Path) -> list[Path]:
    """The database file and the files SQLite keeps beside it."""
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]


def sidecar_problem(path: Path) -> str | None:
    """What is wrong with a file SQLite would write beside a database, with the command that
    fixes it. SQLite opens these by name and follows links, so a link, or a file with other
    names, would send the practice's pages (wrapped keys, salts) wherever it leads."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
        what = "a link" if stat.S_ISLNK(st.st_mode) or st.st_nlink > 1 else "not a plain file"
        return (
            f"{path} is {what}, which SQLite would write the practice through; "
            f"if you did not make it, remove it with: rm '{path}'"
        )
    return config.loose_permission_problem(path)


def check_private(path: Path) -> None:
    """The database and the files beside it are the coach's alone, or it is not opened.

    Without the database (a new one), a file beside it is left from another database or
    put there by someone else; SQLite would read it into the new one, so it is refused.
    """
    main, *sidecars = private_sidecars(path)
    problem = config.loose_permission_problem(main)
    if problem:
        raise StoreError(problem)
    # SQLite keeps its files beside the file a link leads to.
    real = Path(os.path.realpath(main))
    for candidate in private_sidecars(real)[1:]:
        problem = sidecar_problem(candidate)
        if problem:
            raise StoreError(problem)
        if not os.path.lexists(real) and os.path.lexists(candidate):
            if os.path.lexists(real):
                # Made between the two looks, by another trustdesk that is using it now:
                # what is beside it is that database's own, not left over.
                raise AlreadyThere(f"{main} already exists; choose a new name")
            raise StoreError(
                f"{candidate} is left beside a database that is not there; if nothing "
                f"uses it, remove it with: rm '{candidate}'"
            )


def check_folder(folder: Path, dest: Path) -> Path:
    """The folder a new file goes in, resolved, once it is safe to create files in.

    It and every folder above it belong to the coach or to root, and no one else can
    change what is in them (unless, like /tmp, they only let each user remove their own
    files). Otherwise another user could swap a file trustdesk made for a link.
    """
    real = Path(os.path.realpath(folder))
    if not real.is_dir():
        raise StoreError(f"cannot write {dest}: folder {folder} does not exist")
    uid = os.getuid()
    for where in (real, *real.parents):
        st = os.stat(where)
        if st.st_uid not in (uid, 0):
            raise StoreError(
                f"cannot write {dest}: folder {where} belongs to another user "
                f"(uid {st.st_uid}); choose a folder of your own"
            )
        if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
            raise StoreError(
                f"cannot write {dest}: other users can change what is in folder {where} "
                f"(mode {stat.S_IMODE(st.st_mode):o}); fix it with: chmod go-w '{where}'"
            )
    return real


def create_private(path: Path) -> int:
    """A new file only its owner can read or write, open for writing.

    Never a file or link that was already there (O_EXCL, O_NOFOLLOW).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextmanager
def new_private_file(dest: Path) -> Iterator[Path]:
    """Where to write a new private file that appears at `dest` only once it is complete.

    The file is made (create_private) in a folder of its own, 0700, beside `dest` in a
    checked folder: nothing another user planted there is opened, followed or replaced,
    and any file SQLite keeps beside it stays in that private folder. When the block
    ends, the file is linked in at `dest`, which never replaces what is there.
    """
    if os.path.lexists(dest):
        raise AlreadyThere(f"{dest} already exists; choose a new name")
    folder = check_folder(dest.parent, dest)
    target = folder / dest.name
    try:
        private = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=folder))
    except OSError as exc:
        raise StoreError(f"cannot write {dest}: {exc.strerror}") from None
    try:
        partial = private / dest.name
        try:
            os.close(create_private(partial))
        except OSError as exc:
            raise StoreError(f"cannot write {dest}: {exc.strerror}") from None
        yield partial
        _publish(partial, target, dest)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def write_private(path: Path, text: str) -> None:
    """Write a new text file only its owner can read; an existing file is never replaced."""
    with new_private_file(path) as partial:
        with open(partial, "w", encoding="utf-8") as out:
            out.write(text)


def replace_file(dest: Path, data: bytes) -> None:
    """Write `data` at `dest`, replacing in one step (a rename) what is there.

    For a file that is written again and again, such as the calendar a cron job refreshes
    in a folder a calendar subscribes to: whoever reads it meanwhile gets the old file or
    the new one, never half of one, and a crash leaves the old one. The new file is
    written in a private folder made beside `dest` (as new_private_file does: nothing
    planted under a temporary name is opened or followed), synced, and renamed over
    `dest`. It keeps the mode of the plain file of the coach's that it replaces (a file
    in a web folder must stay readable there), less write permission for anyone else;
    otherwise it is 0600. Refused: a folder, anything of another user's, anything but a
    plain file or a link; a link at `dest` is itself replaced, never followed.
    """
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise StoreError(f"cannot write {dest}: {exc.strerror}") from None
    mode = 0o600
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise StoreError(f"cannot write {dest}: it is a folder; name a file in it")
        if st.st_uid != os.getuid():
            raise StoreError(f"cannot replace {dest}: it belongs to another user (uid {st.st_uid})")
        if stat.S_ISREG(st.st_mode):
            mode = stat.S_IMODE(st.st_mode) & 0o755
        elif not stat.S_ISLNK(st.st_mode):
            raise StoreError(f"cannot replace {dest}: it is not a plain file")
    folder = check_folder(dest.parent, dest)
    try:
        private = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=folder))
    except OSError as exc:
        raise StoreError(f"cannot write {dest}: {exc.strerror}") from None
    try:
        partial = private / dest.name
        try:
            fd = create_private(partial)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, mode)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(partial, folder / dest.name)
        except OSError as exc:
            raise StoreError(f"cannot write {dest}: {exc.strerror}") from None
        _sync_folder(folder)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` last through a crash (where the system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_refusal(path: Path, exc: OSError | StoreError) -> str:
    """One plain line saying why a file was not saved (control characters made visible)."""
    shown = visible(str(path))
    if isinstance(exc, StoreError) and not isinstance(exc, AlreadyThere):
        return f"Not saved: {visible(str(exc))}."
    if isinstance(exc, FileExistsError | AlreadyThere):
        return f"Not saved: {shown} already exists; choose another name."
    if isinstance(exc, FileNotFoundError):
        return f"Not saved: the folder {visible(str(path.parent))} does not exist."
    if isinstance(exc, IsADirectoryError):
        return f"Not saved: {shown} is a folder."
    return f"Not saved: {shown}: {exc.strerror or exc}."


def _publish(partial: Path, target: Path, dest: Path) -> None:
    """Give the finished file its name; a link never replaces a file (or link) there."""
    try:
        os.link(partial, target, follow_symlinks=False)
    except FileExistsError:
        raise AlreadyThere(f"{dest} already exists; choose a new name") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
            raise StoreError(f"cannot write {dest}: {exc.strerror}") from None
        # A file system without hard links: a rename, once nothing is there.
        if os.path.lexists(target):
            raise AlreadyThere(f"{dest} already exists; choose a new name") from None
        try:
            os.rename(partial, target)
        except OSError as exc:
            raise StoreError(f"cannot write {dest}: {exc.strerror}") from None


def read_application_id(path: Path) -> int | None:
    """The application_id from the SQLite header, or None when the file is not SQLite."""
    with open(path, "rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return None
    return struct.unpack(">I", header[68:72])[0]


def require_trustdesk_file(path: Path, otherwise: str) -> None:
    """A file is opened only if its SQLite header carries trustdesk's application_id."""
    try:
        app_id = read_application_id(path)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if app_id != APPLICATION_ID:
        raise StoreError(f"{path} is not a trustdesk database; {otherwise}")


def _create_sqlite_file(path: Path) -> None:
    """Make an empty database that is marked as trustdesk's and readable only by its owner."""
    if not path.parent.exists():
        config.ensure_private_dir(path.parent)
    check_private(path)
    with new_private_file(path) as partial:
        mark_as_trustdesk(partial)


def mark_as_trustdesk(path: Path) -> None:
    """Write trustdesk's application_id into the header of the (new) SQLite file at `path`."""
    conn = sqlite3.connect(path)
    try:
        # Set in rollback-journal mode so the mark is in the main file from the start.
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.commit()
    finally:
        conn.close()


class Lending(PooledDatabase):
    """A database whose worker threads borrow connections instead of opening new ones.

    A new SQLite connection repeats the pragmas and starts with an empty page cache, so
    every query on it reads its pages from the file again; a new PostgreSQL connection is
    a new server process. A borrowed one is ready and warm.
    """

    @contextmanager
    def lease(self) -> Iterator[None]:
        """A connection for one piece of work on this thread, given back afterwards (unless
        the thread already had one open, which stays as it was)."""
        opened = self.connect(reuse_if_open=True)
        try:
            yield
        finally:
            if opened:
                super().close()

    def close(self) -> bool:
        """Done with the database: this thread's connection and every idle one close."""
        was_open = super().close()
        self.close_idle()
        return was_open


@contextmanager
def borrowed() -> Iterator[None]:
    """A connection for one piece of work on this thread (lent warm when the database
    lends), with the driver's errors turned into the store's own (`store.errors`)."""
    lease = getattr(db.obj, "lease", None)
    with translated(), lease() if lease is not None else db.connection_context():
        yield


class SqliteFile(Lending, PooledSqliteDatabase):
    """One coach's practice in a SQLite file."""

    path: Path
    # The journal the file's file system can be trusted with (see journal_mode_for).
    safe_journal = "wal"


class PracticeServer(Lending, PooledPostgresqlDatabase):
    """A practice shared by several coaches on PostgreSQL, each fenced in by row-level security."""

    url = ""  # as given, with any password hidden: for messages


LOCAL_FUSE_ENV = "TRUSTDESK_LOCAL_FUSE"


def journal_mode_for(path: Path) -> str:
    """The journal SQLite can trust where `path` lives; refuses a network file system.

    WAL on a local disk. On a FUSE file system on this machine, the rollback journal,
    which needs no shared memory. An unknown FUSE file system is refused unless the
    coach declares it local (TRUSTDESK_LOCAL_FUSE=1): only they know where it leads.
    """
    fstype, source = filesystems.mount_of(path) or (None, "")
    advice = (
        "keep the database on a local disk (--db or TRUSTDESK_DB) or share a PostgreSQL "
        "practice database"
    )
    if filesystems.is_network_filesystem(fstype):
        raise StoreError(
            f"{path} is on a network file system ({fstype}), where SQLite's locks cannot be "
            f"trusted and a crash can corrupt the practice; {advice}"
        )
    if not filesystems.is_fuse(fstype):
        return "wal"
    if filesystems.is_local_fuse(fstype, os.environ.get(LOCAL_FUSE_ENV) == "1"):
        # An encrypted folder is only as local as the folder its files are kept in.
        backing = filesystems.backing_folder(source)
        under = filesystems.filesystem_type(backing) if backing else None
        if filesystems.is_network_filesystem(under):
            raise StoreError(
                f"{path} is in a {fstype} folder whose files are kept on a network file "
                f"system ({under} at {backing}), where SQLite's locks cannot be trusted; "
                f"{advice}"
            )
        return "delete"
    raise StoreError(
        f"{path} is on a FUSE file system ({fstype}) that may reach another machine, where "
        f"SQLite's locks cannot be trusted; {advice}, or if it is kept on this machine "
        f"(an encrypted folder), set {LOCAL_FUSE_ENV}=1"
    )


def _open_sqlite(path: Path, create: bool, new: bool = False) -> peewee.SqliteDatabase:
    journal_mode = journal_mode_for(path)
    if new:
        # Made here or refused: a second init at the same moment must not go on to write
        # (and, failing, remove) the database the first one has just made.
        try:
            _create_sqlite_file(path)
        except AlreadyThere:
            raise AlreadyThere(
                f"{path} already exists; trustdesk init never overwrites a database"
            ) from None
    elif not path.exists():
        if not create:
            raise StoreError(f"no trustdesk database at {path}; create one with: trustdesk init")
        _create_sqlite_file(path)
    elif path.is_dir():
        raise StoreError(f"{path} is a directory, not a trustdesk database")
    else:
        check_private(path)
        require_trustdesk_file(path, "refusing to open it")

    # mode=rw: a connection opened later (a worker thread, after the file was moved away)
    # fails rather than quietly creating an empty database in its place.
    database = SqliteFile(
        f"{path.absolute().as_uri()}?mode=rw",
        uri=True,
        pragmas=_sqlite_pragmas(journal_mode),
        timeout=BUSY_TIMEOUT_MS / 1000,
        check_same_thread=False,
        # A transaction takes the write lock when it begins, so one that reads before it
        # writes waits its turn instead of failing with "database is locked" when another
        # process wrote in between.
        lock_type="IMMEDIATE",
        max_connections=None,
        stale_timeout=STALE_SECONDS,
    )
    database.path = path
    database.safe_journal = journal_mode
    try:
        database.connect()
        in_use = database.execute_sql("PRAGMA journal_mode").fetchone()[0]
    except peewee.DatabaseError as exc:
        database.close()
        if journal_mode != "wal" and "locked" in str(exc):
            raise StoreError(_OPEN_IN_WAL.format(path=path)) from None
        raise StoreError(f"cannot open {path}: {exc}") from None
    if journal_mode != "wal" and in_use == "wal":
        # SQLite keeps WAL while another connection holds the file open that way.
        database.close()
        raise StoreError(_OPEN_IN_WAL.format(path=path))
    return database


_OPEN_IN_WAL = (
    "{path} is open elsewhere in WAL mode, which its file system cannot be trusted with; "
    "close trustdesk everywhere else and open it again"
)


SERVER_SCHEMES = ("postgres", "postgresql", "psycopg3", "cockroachdb", "crdb")


SECRET_PARAMETERS = ("password", "sslpassword")


def redacted(url: str) -> str:
    """The URL with any password replaced (before the host or among its parameters), fit
    for an error message or a cron mail."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = "&".join(
        f"{p.partition('=')[0]}=***" if p.partition("=")[0].lower() in SECRET_PARAMETERS else p
        for p in parts.query.split("&")
        if p
    )
    shown = f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    return shown + (f"#{parts.fragment}" if parts.fragment else "")


def without_user(url: str) -> str:
    """The same server and database, for whoever is logged in (peer authentication)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = "&".join(
        p for p in parts.query.split("&") if p and not p.startswith(("user=", "password="))
    )
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def sqlite_url_path(url: str) -> Path:
    """`sqlite:///relative.db` and `sqlite:////absolute.db` name a file like a plain path does."""
    rest = url[len("sqlite://") :]
    if not rest.startswith("/") or rest in ("/", "/:memory:"):
        raise StoreError(f"{url} does not name a database file")
    return Path(rest[1:])


def load_postgres_driver():
    """Import psycopg and hand it to peewee; returns psycopg's conninfo_to_dict.

    trustdesk imports peewee with the drivers out of sight (trustdesk/__init__.py), so a
    SQLite process never loads them; peewee's psycopg 3 adapter reads these names from
    its module when it connects, and its transaction states from the class.
    """
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
        from psycopg.pq import TransactionStatus
        from psycopg.types.json import Json, Jsonb
    except ImportError:
        raise StoreError(
            "a shared practice needs the PostgreSQL driver: pip install 'trustdesk[postgres]'"
        ) from None
    if peewee.psycopg is None:
        peewee.psycopg = psycopg
        peewee.TransactionStatus = TransactionStatus
        peewee.Json_pg3 = Json
        peewee.Jsonb_pg3 = Jsonb
    adapter = peewee.Psycopg3Adapter
    if getattr(adapter, "txn_idle", None) is None:
        adapter.txn_idle = TransactionStatus.IDLE
        adapter.txn_inerror = TransactionStatus.INERROR
        adapter.txn_unknown = TransactionStatus.UNKNOWN
    return conninfo_to_dict


def connect_server(url: str) -> PracticeServer:
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme not in SERVER_SCHEMES:
        raise StoreError(
            f"trustdesk cannot use a {scheme}:// database; use a file or postgresql://"
        )
    if scheme not in ("postgres", "postgresql"):
        raise StoreError(f"trustdesk shares a practice on PostgreSQL, not {scheme}://")
    conninfo_to_dict = load_postgres_driver()
    shown = redacted(url)
    try:
        params = conninfo_to_dict("postgresql" + url[len(urlsplit(url).scheme) :])
    except Exception:  # noqa: BLE001 - psycopg says what is wrong, but may echo a password
        raise StoreError(f"{shown} is not a PostgreSQL address trustdesk can read") from None
    dbname = params.pop("dbname", None) or "trustdesk"
    database = PracticeServer(
        dbname,
        max_connections=None,
        stale_timeout=STALE_SECONDS,
        prefer_psycopg3=True,
        **params,
    )
    database.url = shown
    try:
        database.connect()
    except peewee.DatabaseError as exc:
        raise StoreError(f"cannot connect to {shown}: {first_line(exc)}") from None
    return database


def known_migrations(migrations_dir: Path = MIGRATIONS_DIR) -> set[str]:
    """The schema versions this code knows, by their migrations' names."""
    return {p.stem for p in migrations_dir.glob("[0-9]*.py")}


def check_schema(database: peewee.Database, migrations_dir: Path = MIGRATIONS_DIR) -> None:
    """A shared practice is upgraded by its administrator only: a coach's session checks."""
    where = getattr(database, "url", "the database")
    if not database.table_exists(HISTORY_TABLE):
        raise StoreError(
            f"{where} holds no trustdesk practice yet; its administrator sets it up with: "
            "trustdesk practice setup"
        )
    applied = {n for (n,) in database.execute_sql(f'SELECT name FROM "{HISTORY_TABLE}"')}
    known = known_migrations(migrations_dir)
    if applied - known:
        raise StoreError(
            f"{where} was set up by a newer trustdesk (schema {max(applied - known)}); "
            "upgrade trustdesk to open it"
        )
    if known - applied:
        raise StoreError(
            f"{where} needs its schema brought up to date; its administrator runs: "
            "trustdesk practice setup"
        )


def open_database(
    target: str | os.PathLike[str],
    *,
    create: bool = False,
    new: bool = False,
    migrations_dir: Path = MIGRATIONS_DIR,
) -> peewee.Database:
    """Open (or with create=True, make) a trustdesk database and bring its schema up to date.

    With new=True a database file must be made by this call, and one already there (even
    one made a moment ago by another process) is refused. The models' proxy is pointed at
    the result, so queries work as soon as this returns.
    """
    target = os.fspath(target)
    if target.startswith("sqlite://"):
        target = os.fspath(sqlite_url_path(target))
    if config.is_url(target):
        database = connect_server(target)
        try:
            check_schema(database, migrations_dir)
        except BaseException:
            database.close()
            raise
        db.initialize(database)
        return database
    path = Path(target).expanduser()
    database = _open_sqlite(path, create, new)
    try:
        upgrade_schema(database, path, migrations_dir)
    except BaseException:
        database.close()
        raise
    db.initialize(database)
    return database


def schema_status(database: peewee.Database, migrations_dir: Path = MIGRATIONS_DIR):
    runner = Runner(database, str(migrations_dir), table_name=HISTORY_TABLE)
    return runner, runner.status()


def upgrade_schema(
    database: peewee.Database, path: Path | None, migrations_dir: Path = MIGRATIONS_DIR
) -> list[str]:
    """Apply pending migrations in one transaction, after a backup if the database had data."""
    try:
        runner, status = schema_status(database, migrations_dir)
    except peewee.DatabaseError as exc:
        raise StoreError(f"cannot read the schema of {path or 'the database'}: {exc}") from None
    unknown = [m.name for m in status if m.path is None]
    if unknown:
        raise StoreError(
            f"{path or 'the database'} was written by a newer trustdesk "
            f"(schema {unknown[-1]}); upgrade trustdesk to open it"
        )
    applied = [m for m in status if m.applied]
    pending = [m for m in status if not m.applied]
    if not pending:
        return []
    if applied and path is not None:
        stamp = config.now().strftime("%Y%m%d-%H%M%S")
        backup_database(database, path.with_name(f"{path.name}.before-{pending[0].name}-{stamp}"))
    return _apply(database, runner)


def _apply(database: peewee.Database, runner: Runner) -> list[str]:
    """Run the pending migrations in one transaction that leaves every row where it was.

    SQLite changes some columns by rebuilding the table; with foreign keys on, dropping
    the old table would cascade-delete every row that points at it (a client's touches,
    promises, notes). So, as SQLite's own instructions say, foreign keys are switched off
    around the transaction (the pragma does nothing inside one), and checked before commit.
    """
    sqlite = isinstance(database, peewee.SqliteDatabase)
    if sqlite:
        database.pragma("foreign_keys", 0)
    try:
        with database.atomic():
            applied = runner.up()
            if sqlite:
                broken = database.execute_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise StoreError(
                        f"the schema upgrade would leave {len(broken)} rows pointing nowhere; "
                        "nothing was changed"
                    )
        return applied
    finally:
        if sqlite:
            database.pragma("foreign_keys", 1)


def backup_database(database: peewee.Database, dest: Path) -> Path:
    """Copy a live SQLite database with the backup API into a new 0600 file, then verify it."""
    if not isinstance(database, peewee.SqliteDatabase):
        raise StoreError("backup copies SQLite databases; use pg_dump for PostgreSQL")
    with new_private_file(dest) as partial:
        target = sqlite3.connect(partial)
        try:
            database.connection().backup(target)
            result = target.execute("PRAGMA integrity_check").fetchone()[0]
            # A backup never stays in WAL mode: one self-contained file is easier to keep safe.
            target.execute("PRAGMA journal_mode = delete")
        finally:
            target.close()
        if result != "ok":
            raise StoreError(f"backup to {dest} failed its integrity check: {result}")
    return dest


@dataclass(frozen=True)
class BackupContents:
    """What a backup holds, read without changing it, so the coach can confirm a restore."""

    clients: int
    notes: int
    schema: str


def practice_contents(conn: sqlite3.Connection) -> BackupContents:
    clients = conn.execute("SELECT COUNT(*) FROM client").fetchone()[0]
    notes = conn.execute("SELECT COUNT(*) FROM note").fetchone()[0]
    names = [r[0] for r in conn.execute(f"SELECT name FROM {HISTORY_TABLE} ORDER BY name")]
    return BackupContents(clients, notes, names[-1] if names else "none")


def describe_practice(path: Path) -> str:
    """'12 clients, 30 notes', read without writing; a damaged practice can still be replaced."""
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            held = practice_contents(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"which cannot be read: {exc}"
    clients = "1 client" if held.clients == 1 else f"{held.clients} clients"
    notes = "1 note" if held.notes == 1 else f"{held.notes} notes"
    return f"{clients}, {notes}"


def inspect_backup(
    source: Path, migrations_dir: Path = MIGRATIONS_DIR, *, doing: str = "nothing was restored"
) -> BackupContents:
    """Check that `source` is a whole trustdesk database this code can take; say what it holds.

    `doing` ends each refusal: what did not happen because of it.
    """
    if not source.is_file():
        raise StoreError(f"no backup at {source}")
    # The rules that open a practice: what another user could have written is not taken in.
    check_private(source)
    require_trustdesk_file(source, doing)
    conn = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise StoreError(f"{source} fails its integrity check ({result}); {doing}")
        contents = practice_contents(conn)
        applied = {r[0] for r in conn.execute(f"SELECT name FROM {HISTORY_TABLE}")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read {source}: {exc}; {doing}") from None
    finally:
        conn.close()
    newer = sorted(applied - known_migrations(migrations_dir))
    if newer:
        raise StoreError(
            f"{source} was written by a newer trustdesk (schema {newer[-1]}); "
            f"upgrade trustdesk first ({doing})"
        )
    return contents


def restore_database(database: peewee.Database, source: Path, keep: Path | None) -> None:
    """Bring a backup back into the open database, first keeping what it replaces in `keep`.

    The backup API writes the pages into the live file in one transaction, through
    SQLite's own locks and WAL: a crash leaves the old practice or the new one, and
    there are no stale WAL files beside a swapped file to corrupt it.
    """
    if not isinstance(database, peewee.SqliteDatabase):
        raise StoreError("restore brings back SQLite backups; use pg_restore for PostgreSQL")
    if keep is not None:
        backup_database(database, keep)
    src = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
    try:
        src.backup(database.connection())
    except sqlite3.Error as exc:
        raise StoreError(f"cannot restore {source}: {exc}; the practice is unchanged") from None
    finally:
        src.close()
    result = database.execute_sql("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        kept = f"; the practice it replaced is in {keep}" if keep is not None else ""
        raise StoreError(f"the restored practice fails its integrity check: {result}{kept}")
    wanted = database.safe_journal
    if database.execute_sql("PRAGMA journal_mode").fetchone()[0] != wanted:
        # The pages brought back carry the backup's journal mode in their header.
        now = database.execute_sql(f"PRAGMA journal_mode = {wanted}").fetchone()[0]
        if now != wanted and wanted != "wal":
            raise StoreError(
                f"the practice was restored, but is left in {now} mode while another "
                "trustdesk has it open; close trustdesk everywhere else and open it again"
            )


def database_path(database: peewee.Database) -> Path | None:
    """The file behind an open SQLite database (None for a server database)."""
    return getattr(database, "path", None)


def _shared() -> bool:
    return isinstance(db.obj, peewee.PostgresqlDatabase)


def current_coach() -> Coach:
    """The coach this database belongs to: the only one in a SQLite file, or on a shared
    practice the one whose database role is logged in."""
    if _shared():
        coach = Coach.get_or_none(Coach.db_role == SQL("current_user"))
        if coach is None:
            raise StoreError(
                "you are not a coach of this practice; its administrator adds you with: "
                "trustdesk practice add-coach NAME --role YOUR_LOGIN"
            )
        return coach
    coach = Coach.select().order_by(Coach.id).first()
    if coach is None:
        raise StoreError("this database has no coach yet; run: trustdesk init")
    return coach


def ensure_coach(name: str, email: str = "") -> Coach:
    if _shared():
        return current_coach()  # coaches are added by the practice's administrator
    with db.atomic():  # BEGIN IMMEDIATE: two first runs at once make one coach
        coach = Coach.select().order_by(Coach.id).first()
        if coach is None:
            coach = Coach.create(name=name, email=email, created_at=config.now())
    return coach


def lock_coach(coach: Coach, *, exclusive: bool = False) -> None:
    """Hold the coach's own row until the transaction ends (call it inside one).

    Sealing a note, or changing the notes key or its slots, happens under this lock, so a
    key rotation (exclusive) and the writes that seal under the current key (shared)
    take turns. On SQLite every transaction already holds the file's write lock from its
    start (BEGIN IMMEDIATE), so there is nothing more to take. On PostgreSQL the row is
    locked FOR NO KEY UPDATE or FOR SHARE: neither blocks the coach's other inserts, whose
    references to the coach take only a key-share lock.
    """
    if not _shared():
        return
    mode = "NO KEY UPDATE" if exclusive else "SHARE"
    db.execute_sql(f"SELECT id FROM public.coach WHERE id = %s FOR {mode}", (coach.id,))
