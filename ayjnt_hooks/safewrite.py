"""Writing a project file without following symlinks, atomically.

The only writers are the explicit fix/install commands (``--fix``, ``ayjnt-deploy``'s
lockfile restore, ``ayjnt-hooks install``). A symlinked ``.ayjnt/`` or
``.ayjnt/migrations.json`` would carry a plain ``open(path, "w")`` into the link's target,
anywhere on the machine; so each folder below the project root is opened with ``O_NOFOLLOW``
and the file is written as a temporary file in its own folder, then renamed over the old name
(a rename replaces a name, never what a link points to). The old file's mode is kept.
"""
from __future__ import annotations

import contextlib
import os
import stat

from .errors import AyjntError

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) \
    | getattr(os, "O_CLOEXEC", 0)


def link_error(shown: str) -> AyjntError:
    return AyjntError(f"{shown} is a symbolic link; ayjnt-hooks does not write through links "
                      f"(the write would land wherever it points). Replace the link with a real "
                      f"{'folder' if shown.endswith(os.sep) else 'file'} (copy its target "
                      f"there), then run the command again.", path=shown)


def _open_folder(parent_fd: int, name: str, shown: str, create: bool) -> int:
    try:
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        if not create:
            raise AyjntError(f"{shown}: the folder does not exist.", path=shown) from None
        os.mkdir(name, 0o777, dir_fd=parent_fd)
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    if stat.S_ISLNK(st.st_mode):
        raise link_error(shown + os.sep)
    if not stat.S_ISDIR(st.st_mode):
        raise AyjntError(f"{shown} is not a folder, but a file must be written inside it. Move "
                         f"it away, then run the command again.", path=shown)
    return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)  # (O_NOFOLLOW: no link swapped in)


def write_file(root: str, rel: str, data: bytes, *, mode: int = 0o644,
               keep_mode: bool = True, create_folders: bool = True) -> str:
    """Write ``data`` to ``root/rel`` (``rel`` "/"-separated) and return that path.

    ``root`` itself is taken as given (the user named it); every folder below it and the file
    itself must not be symlinks. With ``keep_mode`` the file keeps its permission bits and a
    new one gets ``mode`` less the umask (as ``open`` would); without, it gets exactly
    ``mode``. Raises :class:`AyjntError`."""
    *folders, name = rel.split("/")
    shown = root
    try:
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise AyjntError(f"{root}: cannot open the folder ({e.strerror}).", path=root) from None
    try:
        for folder in folders:
            shown = os.path.join(shown, folder)
            next_fd = _open_folder(fd, folder, shown, create_folders)
            os.close(fd)
            fd = next_fd
        shown = os.path.join(shown, name)
        _replace(fd, name, shown, data, mode, keep_mode)
    except OSError as e:
        raise AyjntError(f"{shown}: cannot write the file ({e.strerror}).", path=shown) from None
    finally:
        os.close(fd)
    return shown


def _replace(dir_fd: int, name: str, shown: str, data: bytes, mode: int,
             keep_mode: bool) -> None:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        if keep_mode:
            umask = os.umask(0)
            os.umask(umask)
            mode &= ~umask
    else:
        if stat.S_ISLNK(st.st_mode):
            raise link_error(shown)
        if not stat.S_ISREG(st.st_mode):
            raise AyjntError(f"{shown} exists but is not a regular file; ayjnt-hooks will not "
                             f"replace it. Move it away, then run the command again.",
                             path=shown)
        if keep_mode:
            mode = stat.S_IMODE(st.st_mode)
    temp = f".{name}.ayjnt-hooks-{os.getpid()}-{os.urandom(4).hex()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0), 0o600, dir_fd=dir_fd)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        raise
