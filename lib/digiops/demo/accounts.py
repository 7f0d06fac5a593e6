"""Platform accounts of the demo client's people: Tmall / JD / Douyin buyer ids, WeChat openid and unionid, and the
platforms' privacy (virtual) numbers.

An account id is a keyed bijection of the person's global index (and the seed), so it is stable across chunks and
exports, unique at any scale, and costs no draw from the chunk's random stream.

Example:
    >>> import numpy as np
    >>> ids = buyer_ids(np.array([0, 1]), "天猫", seed=1)
    >>> [len(i) for i in ids], ids[0] != ids[1], ids[0].startswith("tb_")
    ([13, 13], True, True)
    >>> buyer_ids(np.array([0]), "京东", seed=1)[0].startswith("jd_")
    True
    >>> o = openids(np.array([0, 1]), seed=1)
    >>> [len(x) for x in o], o[0][:6] == o[1][:6], o[0] != o[1]
    ([28, 28], True, True)
"""

from __future__ import annotations

import base64

import numpy as np

from digiops.demo.reference import PRIVACY_PREFIXES

#: salts per platform / app, so one person's accounts are unrelated strings
_SALT = {"天猫": 0x51, "京东": 0x52, "抖音": 0x53, "openid": 0x61, "unionid": 0x62, "privacy": 0x71}
#: the person index staff test accounts use (far beyond any client size)
STAFF_INDEX = 2**40 - 1
#: a second WeChat account of a person (a re-registration): its index space starts here
SECOND_ACCOUNT = 2**41


def stream(seed: int, *key: int) -> np.random.Generator:
    """A random stream of its own for one kind of dirt (``key``: e.g. the chunk's first id and a tag), so adding or
    changing one kind does not move the values of another."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *key])))


def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijection of uint64 that scrambles every bit."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _key(seed: int, what: str) -> np.uint64:
    return _splitmix(np.asarray([(seed * 1_000_003 + _SALT[what]) & 0xFFFFFFFFFFFF], dtype=np.uint64))[0]


def _as_text(prefix: str, codes: np.ndarray) -> np.ndarray:
    """``prefix`` + the characters whose code points are the rows of ``codes`` (n × k), as an object array."""
    # code points in a uint32 grid, viewed as fixed-width unicode (numpy's UCS-4): no per-character objects
    n, width = codes.shape[0], len(prefix) + codes.shape[1]
    grid = np.empty((n, width), dtype=np.uint32)
    grid[:, :len(prefix)] = [ord(c) for c in prefix]
    grid[:, len(prefix):] = codes
    return grid.view(f"<U{width}").ravel().astype(object)


def _hex(word: np.ndarray) -> np.ndarray:
    """The 16 lowercase hex digits of each uint64 (its bytes in order), as code points (n × 16)."""
    return np.frombuffer(word.astype("<u8").tobytes().hex().encode("ascii"), np.uint8).reshape(len(word), 16)


def _base64url(words: list[np.ndarray], length: int) -> np.ndarray:
    """The first ``length`` base64url characters of each row's bytes (three uint64 words: 24 bytes, 32
    characters, so rows stay aligned), as code points (n × length)."""
    rows = np.stack([w.astype("<u8") for w in words], axis=1)
    encoded = base64.urlsafe_b64encode(rows.tobytes())
    return np.frombuffer(encoded, np.uint8).reshape(len(rows), -1)[:, :length]


def _scrambled(index: np.ndarray, seed: int, what: str, n_words: int) -> list[np.ndarray]:
    x = _splitmix(np.asarray(index).astype(np.uint64) ^ _key(seed, what))  # a bijection of the index: unique
    return [x] + [_splitmix(x + np.uint64(k)) for k in range(1, n_words)]


def buyer_ids(index: np.ndarray, platform: str, seed: int) -> np.ndarray:
    """The buyer id of each person on ``platform`` (天猫 ``tb_`` + 10 digits, 京东 ``jd_`` + 16 hex, 抖音
    ``dy_`` + 16 hex): one per person and platform, unique, different across platforms."""
    index = np.asarray(index, dtype=np.int64)
    if platform == "天猫":
        # an affine bijection of 0 … 10**10 - 1 (the multiplier is prime to 10), zero-padded by a leading 1
        offset = int(_key(seed, platform) % np.uint64(10**10))
        value = ((index % 10**10) * 76_543_219 + offset) % 10**10
        digits = (value + 10**10).astype("U11").view(np.uint32).reshape(len(value), 11)[:, 1:]
        return _as_text("tb_", digits)
    x = _scrambled(index, seed, platform, 1)[0]  # 64 bits of a bijection: all of them are written
    return _as_text("jd_" if platform == "京东" else "dy_", _hex(x))


def _wechat(index: np.ndarray, seed: int, what: str) -> np.ndarray:
    # one five-character prefix per app / open platform, then 22 characters whose first 64 bits are a bijection
    app = _as_text("o", _base64url(_scrambled(np.asarray([2**50]), seed, what, 3), 5))[0]
    return _as_text(app, _base64url(_scrambled(np.asarray(index), seed, what, 3), 22))


def openids(index: np.ndarray, seed: int) -> np.ndarray:
    """The mini-program openid of each person's WeChat account (28 characters, one prefix per app)."""
    return _wechat(index, seed, "openid")


def unionids(index: np.ndarray, seed: int) -> np.ndarray:
    """The open-platform unionid of each person's WeChat account (28 characters)."""
    return _wechat(index, seed, "unionid")


def privacy_pool(seed: int, size: int = 400) -> np.ndarray:
    """The platforms' pool of privacy base numbers (int64, 11 digits): few, so strangers share them."""
    rng = stream(seed, 0x71)
    prefix = np.asarray(PRIVACY_PREFIXES, dtype=np.int64)[rng.integers(0, len(PRIVACY_PREFIXES), size)]
    return prefix * 100_000_000 + rng.choice(100_000_000, size, replace=False)
