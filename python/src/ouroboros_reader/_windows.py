"""The Windows mapping of a live segment (docs/format.md section 10.3), standard library only.

Segment "/NAME" is the section Local\\NAME (Global\\NAME with OUROBOROS_WINDOWS_NAMESPACE=Global).
The section is opened with OpenFileMappingW(FILE_MAP_READ) first: that tells a missing segment
from one we may not open, and its handle keeps the section alive while mmap maps it by tag
name (mmap.mmap(-1, size, tagname=..., access=ACCESS_READ) would otherwise create an empty
section under a name that just vanished). The size is the view's, whole pages, which is the
ring's size for the project's writers. A section's identity is its incarnation id (no inode).

Not tested: no Windows CPython runs on the build machine (README, docs/windows.md)."""

import ctypes
import mmap
import os
from ctypes import wintypes
from typing import Optional, Tuple

FILE_MAP_READ = 0x0004
ERROR_FILE_NOT_FOUND = 2
ERROR_PATH_NOT_FOUND = 3
ERROR_ACCESS_DENIED = 5


class _MemoryBasicInformation(ctypes.Structure):
    _fields_ = [
        ("BaseAddress", ctypes.c_void_p),
        ("AllocationBase", ctypes.c_void_p),
        ("AllocationProtect", wintypes.DWORD),
        ("PartitionId", wintypes.WORD),
        ("RegionSize", ctypes.c_size_t),
        ("State", wintypes.DWORD),
        ("Protect", wintypes.DWORD),
        ("Type", wintypes.DWORD),
    ]


def _kernel32():  # type: ignore[no-untyped-def]
    k = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    k.OpenFileMappingW.restype = wintypes.HANDLE
    k.OpenFileMappingW.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.LPCWSTR]
    k.MapViewOfFile.restype = ctypes.c_void_p
    k.MapViewOfFile.argtypes = [wintypes.HANDLE, wintypes.DWORD, wintypes.DWORD, wintypes.DWORD, ctypes.c_size_t]
    k.UnmapViewOfFile.argtypes = [ctypes.c_void_p]
    k.VirtualQuery.restype = ctypes.c_size_t
    k.VirtualQuery.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    k.CloseHandle.argtypes = [wintypes.HANDLE]
    return k


def object_name(canonical: str) -> str:
    namespace = "Global\\" if os.environ.get("OUROBOROS_WINDOWS_NAMESPACE", "") in ("Global", "global") else "Local\\"
    return namespace + canonical[1:]


class Missing(Exception):
    pass


class Denied(Exception):
    pass


def map_section(canonical: str) -> Tuple[mmap.mmap, int]:
    """(read-only mmap of the whole section, its size). Raises Missing, Denied or OSError."""
    if "\\" in canonical:
        raise ValueError(f"segment name '{canonical}' contains '\\', which Windows reserves for kernel object namespaces")
    k = _kernel32()
    name = object_name(canonical)
    handle = k.OpenFileMappingW(FILE_MAP_READ, False, name)
    if not handle:
        error = ctypes.get_last_error()  # type: ignore[attr-defined]
        if error in (ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND):
            raise Missing(canonical)
        if error == ERROR_ACCESS_DENIED:
            raise Denied(canonical)
        raise ctypes.WinError(error)  # type: ignore[attr-defined]
    try:
        view = k.MapViewOfFile(handle, FILE_MAP_READ, 0, 0, 0)
        if not view:
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
        info = _MemoryBasicInformation()
        got = k.VirtualQuery(view, ctypes.byref(info), ctypes.sizeof(info))
        k.UnmapViewOfFile(view)
        if got == 0 or info.RegionSize == 0:
            raise OSError(f"cannot size shared memory '{canonical}'")
        size = int(info.RegionSize)
        # The open handle keeps the section: the tag name cannot refer to a new, empty one here.
        mm = mmap.mmap(-1, size, tagname=name, access=mmap.ACCESS_READ)
    finally:
        k.CloseHandle(handle)
    return mm, size


def exists(canonical: str) -> bool:
    k = _kernel32()
    handle = k.OpenFileMappingW(FILE_MAP_READ, False, object_name(canonical))
    if not handle:
        return ctypes.get_last_error() == ERROR_ACCESS_DENIED  # type: ignore[attr-defined]
    k.CloseHandle(handle)
    return True


def incarnation_identity(incarnation: Optional[int]) -> Tuple[int, int]:
    return (0, incarnation or 0)


PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
SYNCHRONIZE = 0x00100000
STILL_ACTIVE = 259
WAIT_OBJECT_0 = 0


def _process_handle(pid: int, access: int):  # type: ignore[no-untyped-def]
    k = _kernel32()
    k.OpenProcess.restype = wintypes.HANDLE
    k.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    return k, k.OpenProcess(access, False, pid)


def process_exists(pid: int) -> bool:
    """As the C++ platform layer: OpenProcess works and the process has not exited. (os.kill(pid,
    0) must never be used on Windows: it terminates the process.)"""
    if pid == 0 or pid > 0xFFFFFFFF:
        return False
    k, handle = _process_handle(pid, PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE)
    if not handle:
        return ctypes.get_last_error() == ERROR_ACCESS_DENIED  # type: ignore[attr-defined]
    try:
        code = wintypes.DWORD()
        if not k.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value != STILL_ACTIVE:
            return False
        return k.WaitForSingleObject(handle, 0) != WAIT_OBJECT_0
    finally:
        k.CloseHandle(handle)


def process_start_unix_ns(pid: int) -> int:
    """The process's creation time (GetProcessTimes) in unix ns, 0 if unknown."""
    if pid == 0 or pid > 0xFFFFFFFF:
        return 0
    k, handle = _process_handle(pid, PROCESS_QUERY_LIMITED_INFORMATION)
    if not handle:
        return 0
    try:
        times = [wintypes.FILETIME() for _ in range(4)]
        if not k.GetProcessTimes(handle, *[ctypes.byref(t) for t in times]):
            return 0
        ticks = (times[0].dwHighDateTime << 32) | times[0].dwLowDateTime
        epoch = 116444736000000000  # 1601 -> 1970 in 100 ns units
        return (ticks - epoch) * 100 if ticks > epoch else 0
    finally:
        k.CloseHandle(handle)
