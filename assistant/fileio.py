"""Files in and out, with real bounds and only ever regular files written.

- ``read_limited(path, limit)``: read a file from outside (an indicator file, a bundle, a flow),
  stopping at ``limit`` bytes whatever the file claims to be: pipes, devices (``/dev/zero``) and
  files that grow while read are bounded too.
- ``write_regular(path, data)``: write an export or a bundle atomically (a temporary file in the
  same directory, fsynced, then renamed), mode 0600 unless asked otherwise. It refuses a target
  that exists and is not a regular file (a device such as ``/dev/null``, a fifo, a socket, a
  directory): renaming over those would replace them. Missing directories are created only when
  asked (``parents=True``).
- ``append_private(path, text)``: append to a 0600 file (the recovery file for answers that could
  not be stored).

Every failure is a ``FileProblem`` with one Swedish sentence naming the file.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from storage.files import kind_of, make_private_dirs  # noqa: F401 - shared with storage, used here and by callers

CHUNK = 1 << 20

_ERRNO_SV = {
    errno.EACCES: "åtkomst nekas",
    errno.EPERM: "åtgärden är inte tillåten",
    errno.EROFS: "filsystemet är skrivskyddat",
    errno.ENOSPC: "disken är full",
    errno.EDQUOT: "diskkvoten är slut",
    errno.ENOENT: "finns inte",
    errno.ENOTDIR: "en del av sökvägen är inte en katalog",
    errno.EISDIR: "det är en katalog",
    errno.ENAMETOOLONG: "namnet är för långt",
    errno.ELOOP: "för många symboliska länkar",
    errno.EIO: "läs- eller skrivfel på disken",
    errno.EXDEV: "olika filsystem",
    errno.ETXTBSY: "filen används",
    errno.EFBIG: "filen blir för stor",
    errno.EEXIST: "finns redan",
    errno.EINVAL: "ogiltigt namn eller värde",
    errno.EBUSY: "används av ett annat program",
}


class FileProblem(Exception):
    """A file that cannot be read or written; the message is one Swedish sentence for the user."""


def reason(exc: OSError) -> str:
    """An OSError in a few Swedish words – never the system's English ("No such file or
    directory"): an error without a translation is named by its code."""
    found = _ERRNO_SV.get(exc.errno or 0)
    if found:
        return found
    code = errno.errorcode.get(exc.errno or 0)
    return f"systemfel {code} ({exc.errno})" if code else "okänt systemfel"


# ---------------------------------------------------------------- reading


def read_limited(path: str | os.PathLike[str], limit: int) -> bytes:
    """At most ``limit`` bytes of ``path``; a longer file (or an endless device) is a FileProblem.

    The message is the reason only ("filen är för stor (…)"), for the caller to place. A regular
    file's size is known before reading; anything else is read until it passes the limit."""
    try:
        with open(path, "rb", buffering=0) as fh:
            st = os.fstat(fh.fileno())
            if stat.S_ISREG(st.st_mode) and st.st_size > limit:
                raise FileProblem(f"filen är för stor ({st.st_size} byte, högst {limit})")
            chunks: list[bytes] = []
            total = 0
            while True:
                chunk = fh.read(min(CHUNK, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > limit:
                    raise FileProblem(f"filen är för stor (mer än {limit} byte)")
    except IsADirectoryError:
        raise FileProblem("kan inte läsas: det är en katalog, inte en fil") from None
    except FileNotFoundError:
        raise FileProblem("kan inte läsas: filen finns inte") from None
    except OSError as exc:
        raise FileProblem(f"kan inte läsas: {reason(exc)}") from None
    return b"".join(chunks)


# ---------------------------------------------------------------- writing


def _check_target(path: Path) -> None:
    try:
        st = os.stat(path)  # follows a symbolic link: what would be replaced or written through
    except FileNotFoundError:
        return
    except OSError as exc:
        raise FileProblem(f"{path} kan inte skrivas ({reason(exc)}).") from None
    if not stat.S_ISREG(st.st_mode):
        hint = " Ange ett filnamn, eller - för att skriva till standard ut." if not stat.S_ISDIR(st.st_mode) else (
            " Ange ett filnamn i katalogen."
        )
        raise FileProblem(f"{path} finns redan och är {kind_of(st.st_mode)}, inte en vanlig fil; den skrivs inte över.{hint}")


def write_regular(
    path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600, parents: bool = False
) -> Path:
    """Write ``data`` to ``path`` atomically as a regular file with ``mode``; see the module docstring."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    _check_target(path)
    try:
        if not folder.is_dir():
            if folder.exists() or folder.is_symlink():
                raise FileProblem(f"{path} kan inte skrivas: {folder} är inte en katalog.")
            if not parents:
                raise FileProblem(
                    f"{path} kan inte skrivas: katalogen {folder} finns inte. Skapa den först, eller lägg till --parents."
                )
            make_private_dirs(folder)
        fd, tmp = tempfile.mkstemp(prefix=".dialogstod-", suffix=".tmp", dir=folder)
    except FileProblem:
        raise
    except OSError as exc:
        raise FileProblem(f"{path} kan inte skrivas ({reason(exc)}).") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        _check_target(path)  # again: something may have appeared there meanwhile
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise FileProblem(f"{path} kan inte skrivas ({reason(exc)}).") from None
        raise
    _sync_dir(folder)
    return path


def _sync_dir(folder: Path) -> None:
    """Make the rename durable (best effort: not every file system lets a directory be synced)."""
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


def append_private(path: str | os.PathLike[str], text: str) -> Path:
    """Append ``text`` to ``path`` (created 0600; an existing link or non-regular file is refused), fsynced."""
    path = Path(path)
    # O_NONBLOCK: a fifo planted there fails at once instead of waiting for a reader.
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise FileProblem(f"{path} kan inte skrivas ({reason(exc)}).") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileProblem(f"{path} är {kind_of(st.st_mode)}, inte en vanlig fil.")
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            raise FileProblem(f"{path} tillhör en annan användare.")
        if st.st_size == 0:
            os.fchmod(fd, 0o600)  # os.open's mode is filtered by the umask
        data = text.encode("utf-8", "backslashreplace")
        while data:
            written = os.write(fd, data)
            data = data[written:]
        os.fsync(fd)
    except OSError as exc:
        raise FileProblem(f"{path} kan inte skrivas ({reason(exc)}).") from None
    finally:
        os.close(fd)
    return path
