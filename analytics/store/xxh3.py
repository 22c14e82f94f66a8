"""XXH3-128 (seed 0, the default secret) compiled by Numba: the event keys of ``keys.event_keys``,
bit for bit, without a Python call per message.

``xxhash.xxh3_128_digest`` costs a Python call per text and holds the GIL: about 0.5 s per
million messages on the ingest's main thread. ``xxh3_128_at`` hashes one text where it lies in a
byte buffer and writes its canonical digest (the 128-bit value, big-endian); the compiled line
scanner (``analytics.ingest.fast_scan``) calls it on every message it accepts, while the line is
in cache.

This is a port of the reference code (xxHash 0.8, ``xxhash.h``): its paths for 0, 1-3, 4-8,
9-16, 17-128, 129-240 and longer texts (64-byte stripes, 1024-byte blocks, scrambles, the 128-bit
merge), scalar, with the long path's eight accumulators in a tuple, so in registers (an array of
them was 15-20% slower). 64x64-bit products are built from 32-bit halves; uint64 arithmetic
wraps. Every operand is a uint64: Numba makes a float of uint64 mixed with int64.

``xxhash`` stays the reference: ``keys.event_keys`` keys every message the scanner does not read
(inputs too small to pay Numba's import, lines it refuses, Numba unavailable). The tests compare
the two on every length to 2,100 bytes, at every path's edges, and on whole ingests.
"""

from __future__ import annotations

import sys

import numba
import numpy as np

from analytics import numba_options

_jit = numba.njit(**numba_options.NJIT_OPTIONS)

_U = np.uint64
_MASK32 = _U(0xFFFFFFFF)
_PRIME32_1 = _U(0x9E3779B1)
_PRIME32_2 = _U(0x85EBCA77)
_PRIME32_3 = _U(0xC2B2AE3D)
_PRIME64_1 = _U(0x9E3779B185EBCA87)
_PRIME64_2 = _U(0xC2B2AE3D27D4EB4F)
_PRIME64_3 = _U(0x165667B19E3779F9)
_PRIME64_4 = _U(0x85EBCA77C2B2AE63)
_PRIME64_5 = _U(0x27D4EB2F165667C5)
_PRIME_MX1 = _U(0x165667919E3779F9)
_PRIME_MX2 = _U(0x9FB21C651E98DF25)

#: The default secret (``XXH3_kSecret``), 192 bytes.
_SECRET_BYTES = bytes.fromhex(
    "b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f"
    "cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c"
    "3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8"
    "a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364"
    "eac5ac8334d3ebc3c581a0fffa1363eb170ddd51b7f0da49d316552629d4689e"
    "2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e"
)
_SECRET = np.frombuffer(_SECRET_BYTES, dtype=np.uint8).copy()
_SECRET_SIZE = len(_SECRET_BYTES)
_STRIPE_LEN = 64
_STRIPES_PER_BLOCK = (_SECRET_SIZE - _STRIPE_LEN) // 8  # 8: the secret consumed per stripe
_BLOCK_LEN = _STRIPE_LEN * _STRIPES_PER_BLOCK
_SECRET_LASTACC_START = 7
_SECRET_MERGEACCS_START = 11
_MIDSIZE_STARTOFFSET = 3
_MIDSIZE_LASTOFFSET = 17
_SECRET_SIZE_MIN = 136


@_jit
def _read64(buf, p):  # type: ignore[no-untyped-def]
    # Little-endian; LLVM makes one load of the eight byte loads.
    p = _U(p)
    return (
        _U(buf[p])
        | (_U(buf[p + _U(1)]) << _U(8))
        | (_U(buf[p + _U(2)]) << _U(16))
        | (_U(buf[p + _U(3)]) << _U(24))
        | (_U(buf[p + _U(4)]) << _U(32))
        | (_U(buf[p + _U(5)]) << _U(40))
        | (_U(buf[p + _U(6)]) << _U(48))
        | (_U(buf[p + _U(7)]) << _U(56))
    )


@_jit
def _read32(buf, p):  # type: ignore[no-untyped-def]
    p = _U(p)
    return (
        _U(buf[p])
        | (_U(buf[p + _U(1)]) << _U(8))
        | (_U(buf[p + _U(2)]) << _U(16))
        | (_U(buf[p + _U(3)]) << _U(24))
    )


@_jit
def _secret64(p):  # type: ignore[no-untyped-def]
    return _read64(_SECRET, p)


@_jit
def _mul128(a, b):  # type: ignore[no-untyped-def]
    """The 128-bit product of two uint64, as (low, high)."""
    a_lo = a & _MASK32
    a_hi = a >> _U(32)
    b_lo = b & _MASK32
    b_hi = b >> _U(32)
    lo_lo = a_lo * b_lo
    hi_lo = a_hi * b_lo
    lo_hi = a_lo * b_hi
    hi_hi = a_hi * b_hi
    cross = (lo_lo >> _U(32)) + (hi_lo & _MASK32) + lo_hi
    high = (hi_lo >> _U(32)) + (cross >> _U(32)) + hi_hi
    low = (cross << _U(32)) | (lo_lo & _MASK32)
    return low, high


@_jit
def _mul128_fold64(a, b):  # type: ignore[no-untyped-def]
    low, high = _mul128(a, b)
    return low ^ high


@_jit
def _xxh64_avalanche(h):  # type: ignore[no-untyped-def]
    h ^= h >> _U(33)
    h *= _PRIME64_2
    h ^= h >> _U(29)
    h *= _PRIME64_3
    h ^= h >> _U(32)
    return h


@_jit
def _avalanche(h):  # type: ignore[no-untyped-def]
    h ^= h >> _U(37)
    h *= _PRIME_MX1
    h ^= h >> _U(32)
    return h


@_jit
def _swap32(x):  # type: ignore[no-untyped-def]
    return (
        ((x << _U(24)) & _U(0xFF000000))
        | ((x << _U(8)) & _U(0x00FF0000))
        | ((x >> _U(8)) & _U(0x0000FF00))
        | ((x >> _U(24)) & _U(0x000000FF))
    )


@_jit
def _swap64(x):  # type: ignore[no-untyped-def]
    return (_swap32(x & _MASK32) << _U(32)) | _swap32(x >> _U(32))


@_jit
def _mix16(buf, p, s):  # type: ignore[no-untyped-def]
    return _mul128_fold64(_read64(buf, p) ^ _secret64(s), _read64(buf, p + 8) ^ _secret64(s + 8))


@_jit
def _mix32(low, high, buf, p1, p2, s):  # type: ignore[no-untyped-def]
    low += _mix16(buf, p1, s)
    low ^= _read64(buf, p2) + _read64(buf, p2 + 8)
    high += _mix16(buf, p2, s + 16)
    high ^= _read64(buf, p1) + _read64(buf, p1 + 8)
    return low, high


@_jit
def _up_to_16(buf, p, n):  # type: ignore[no-untyped-def]
    length = _U(n)
    if n > 8:
        bitflip_low = _secret64(32) ^ _secret64(40)
        bitflip_high = _secret64(48) ^ _secret64(56)
        input_low = _read64(buf, p)
        input_high = _read64(buf, p + n - 8)
        low, high = _mul128(input_low ^ input_high ^ bitflip_low, _PRIME64_1)
        low += (length - _U(1)) << _U(54)
        input_high ^= bitflip_high
        high += input_high + (input_high & _MASK32) * (_PRIME32_2 - _U(1))
        low ^= _swap64(high)
        low2, high2 = _mul128(low, _PRIME64_2)
        high2 += high * _PRIME64_2
        return _avalanche(low2), _avalanche(high2)
    if n >= 4:
        input_64 = _read32(buf, p) + (_read32(buf, p + n - 4) << _U(32))
        keyed = input_64 ^ (_secret64(16) ^ _secret64(24))
        low, high = _mul128(keyed, _PRIME64_1 + (length << _U(2)))
        high += low << _U(1)
        low ^= high >> _U(3)
        low ^= low >> _U(35)
        low *= _PRIME_MX2
        low ^= low >> _U(28)
        return low, _avalanche(high)
    if n > 0:
        c1 = _U(buf[_U(p)])
        c2 = _U(buf[_U(p + (n >> 1))])
        c3 = _U(buf[_U(p + n - 1)])
        combined_low = (c1 << _U(16)) | (c2 << _U(24)) | c3 | (length << _U(8))
        swapped = _swap32(combined_low)
        combined_high = ((swapped << _U(13)) | (swapped >> _U(19))) & _MASK32
        bitflip_low = _read32(_SECRET, 0) ^ _read32(_SECRET, 4)
        bitflip_high = _read32(_SECRET, 8) ^ _read32(_SECRET, 12)
        return (
            _xxh64_avalanche(combined_low ^ bitflip_low),
            _xxh64_avalanche(combined_high ^ bitflip_high),
        )
    return (
        _xxh64_avalanche(_secret64(64) ^ _secret64(72)),
        _xxh64_avalanche(_secret64(80) ^ _secret64(88)),
    )


@_jit
def _up_to_240(buf, p, n):  # type: ignore[no-untyped-def]
    length = _U(n)
    low = length * _PRIME64_1
    high = _U(0)
    if n <= 128:
        if n > 32:
            if n > 64:
                if n > 96:
                    low, high = _mix32(low, high, buf, p + 48, p + n - 64, 96)
                low, high = _mix32(low, high, buf, p + 32, p + n - 48, 64)
            low, high = _mix32(low, high, buf, p + 16, p + n - 32, 32)
        low, high = _mix32(low, high, buf, p, p + n - 16, 0)
    else:
        for i in range(32, 160, 32):
            low, high = _mix32(low, high, buf, p + i - 32, p + i - 16, i - 32)
        low = _avalanche(low)
        high = _avalanche(high)
        for i in range(160, n + 1, 32):
            low, high = _mix32(
                low, high, buf, p + i - 32, p + i - 16, _MIDSIZE_STARTOFFSET + i - 160
            )
        low, high = _mix32(
            low,
            high,
            buf,
            p + n - 16,
            p + n - 32,
            _SECRET_SIZE_MIN - _MIDSIZE_LASTOFFSET - 16,
        )
    result_low = low + high
    result_high = low * _PRIME64_1 + high * _PRIME64_4 + length * _PRIME64_2
    return _avalanche(result_low), _U(0) - _avalanche(result_high)


@_jit
def _lane(a_own, a_other, buf, p, s):  # type: ignore[no-untyped-def]
    """One 8-byte lane of a stripe: (its accumulator, its neighbour's) updated."""
    data = _read64(buf, p)
    key = data ^ _secret64(s)
    return a_own + (key & _MASK32) * (key >> _U(32)), a_other + data


@_jit
def _stripe(a, buf, p, s):  # type: ignore[no-untyped-def]
    """The eight accumulators (a tuple: kept in registers) after one 64-byte stripe."""
    a0, a1, a2, a3, a4, a5, a6, a7 = a
    a0, a1 = _lane(a0, a1, buf, p, s)
    a1, a0 = _lane(a1, a0, buf, p + 8, s + 8)
    a2, a3 = _lane(a2, a3, buf, p + 16, s + 16)
    a3, a2 = _lane(a3, a2, buf, p + 24, s + 24)
    a4, a5 = _lane(a4, a5, buf, p + 32, s + 32)
    a5, a4 = _lane(a5, a4, buf, p + 40, s + 40)
    a6, a7 = _lane(a6, a7, buf, p + 48, s + 48)
    a7, a6 = _lane(a7, a6, buf, p + 56, s + 56)
    return a0, a1, a2, a3, a4, a5, a6, a7


@_jit
def _scramble(a):  # type: ignore[no-untyped-def]
    s = _SECRET_SIZE - _STRIPE_LEN
    return (
        ((a[0] ^ (a[0] >> _U(47))) ^ _secret64(s)) * _PRIME32_1,
        ((a[1] ^ (a[1] >> _U(47))) ^ _secret64(s + 8)) * _PRIME32_1,
        ((a[2] ^ (a[2] >> _U(47))) ^ _secret64(s + 16)) * _PRIME32_1,
        ((a[3] ^ (a[3] >> _U(47))) ^ _secret64(s + 24)) * _PRIME32_1,
        ((a[4] ^ (a[4] >> _U(47))) ^ _secret64(s + 32)) * _PRIME32_1,
        ((a[5] ^ (a[5] >> _U(47))) ^ _secret64(s + 40)) * _PRIME32_1,
        ((a[6] ^ (a[6] >> _U(47))) ^ _secret64(s + 48)) * _PRIME32_1,
        ((a[7] ^ (a[7] >> _U(47))) ^ _secret64(s + 56)) * _PRIME32_1,
    )


@_jit
def _merge(a, s, start):  # type: ignore[no-untyped-def]
    result = start
    result += _mul128_fold64(a[0] ^ _secret64(s), a[1] ^ _secret64(s + 8))
    result += _mul128_fold64(a[2] ^ _secret64(s + 16), a[3] ^ _secret64(s + 24))
    result += _mul128_fold64(a[4] ^ _secret64(s + 32), a[5] ^ _secret64(s + 40))
    result += _mul128_fold64(a[6] ^ _secret64(s + 48), a[7] ^ _secret64(s + 56))
    return _avalanche(result)


@_jit
def _long(buf, p, n):  # type: ignore[no-untyped-def]
    a = (
        _PRIME32_3,
        _PRIME64_1,
        _PRIME64_2,
        _PRIME64_3,
        _PRIME64_4,
        _PRIME32_2,
        _PRIME64_5,
        _PRIME32_1,
    )
    blocks = (n - 1) // _BLOCK_LEN
    for b in range(blocks):
        block = p + b * _BLOCK_LEN
        for stripe in range(_STRIPES_PER_BLOCK):
            a = _stripe(a, buf, block + stripe * _STRIPE_LEN, stripe * 8)
        a = _scramble(a)
    last_block = p + blocks * _BLOCK_LEN
    for stripe in range(((n - 1) - blocks * _BLOCK_LEN) // _STRIPE_LEN):
        a = _stripe(a, buf, last_block + stripe * _STRIPE_LEN, stripe * 8)
    a = _stripe(a, buf, p + n - _STRIPE_LEN, _SECRET_SIZE - _STRIPE_LEN - _SECRET_LASTACC_START)
    length = _U(n)
    low = _merge(a, _SECRET_MERGEACCS_START, length * _PRIME64_1)
    high = _merge(a, _SECRET_SIZE - _STRIPE_LEN - _SECRET_MERGEACCS_START, ~(length * _PRIME64_2))
    return low, high


@_jit
def _write_be64(out, q, value):  # type: ignore[no-untyped-def]
    for k in range(8):
        out[_U(q + k)] = np.uint8((value >> _U(56 - 8 * k)) & _U(0xFF))


@_jit
def xxh3_128_at(buf, p, n, out, q):  # type: ignore[no-untyped-def]
    """Write the XXH3-128 canonical digest of ``buf[p:p+n]`` to ``out[q:q+16]``."""
    if n <= 16:
        low, high = _up_to_16(buf, p, n)
    elif n <= 240:
        low, high = _up_to_240(buf, p, n)
    else:
        low, high = _long(buf, p, n)
    _write_be64(out, q, high)
    _write_be64(out, q + 8, low)


numba_options.forget_stale_compiled_code(sys.modules[__name__], (numba_options,))
