# vm-read.py PID...: for each pid, "PID read" when process_vm_readv may read
# its memory (the address is 0, so the read itself fails with EFAULT once
# access was granted), else "PID <strerror>". This process first drops
# CAP_SYS_PTRACE from its effective set, keeping every capability permitted:
# then the kernel (__ptrace_may_access, PTRACE_MODE_ATTACH_REALCREDS) lets it
# at a root process only if that process is dumpable, which is how a test
# sees PR_SET_DUMPABLE 0 from the host.
import ctypes
import os
import sys

CAP_SYS_PTRACE = 19
libc = ctypes.CDLL(None, use_errno=True)


class Header(ctypes.Structure):
    _fields_ = [('version', ctypes.c_uint32), ('pid', ctypes.c_int)]


class Data(ctypes.Structure):
    _fields_ = [('effective', ctypes.c_uint32), ('permitted', ctypes.c_uint32), ('inheritable', ctypes.c_uint32)]


class Iovec(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]


def check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f'{what}: {os.strerror(err)}')


header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
data = (Data * 2)()
check(libc.capget(ctypes.byref(header), data), 'capget')
data[CAP_SYS_PTRACE // 32].effective &= ~(1 << (CAP_SYS_PTRACE % 32))
check(libc.capset(ctypes.byref(header), data), 'capset')

buffer = ctypes.create_string_buffer(8)
for pid in sys.argv[1:]:
    local = Iovec(ctypes.cast(buffer, ctypes.c_void_p), 8)
    remote = Iovec(None, 8)
    n = libc.process_vm_readv(int(pid), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    err = ctypes.get_errno()
    print(pid, 'read' if n >= 0 or err == 14 else os.strerror(err))  # 14: EFAULT
