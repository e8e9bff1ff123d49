"""A ZIP writer whose memory does not grow with the number of entries.

Python's ``zipfile`` keeps every entry's ``ZipInfo`` in memory until it writes the central
directory at the end (about 500 bytes an entry: 5 MB at 10,000 files). :class:`SpooledZipFile`
keeps them in a temporary file instead, one pickled ``ZipInfo`` after another, and reads them
back one at a time when ``zipfile`` writes the central directory; all the format work (ZIP64,
CRCs, headers) stays zipfile's. It only writes (mode "w"), names are never looked up, and a
duplicate name is the caller's to avoid (the package's paths are unique by construction).
"""

from __future__ import annotations

import pickle
import tempfile
import zipfile
from collections.abc import Iterator
from typing import IO, Any

_LENGTH = 4


class _SpooledInfos:
    """The list-like ``ZipFile.filelist`` that zipfile appends to and iterates once at close."""

    def __init__(self) -> None:
        # Closed with the archive (SpooledZipFile.close): no context manager.
        self.store: IO[bytes] = tempfile.TemporaryFile(prefix="attest-zip-directory-")  # noqa: SIM115
        self.count = 0

    def append(self, info: zipfile.ZipInfo) -> None:
        data = pickle.dumps(info, protocol=pickle.HIGHEST_PROTOCOL)
        self.store.write(len(data).to_bytes(_LENGTH, "big") + data)
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[zipfile.ZipInfo]:
        self.store.seek(0)
        try:
            while header := self.store.read(_LENGTH):
                # Our own temporary file, written just above: nothing untrusted is unpickled.
                yield pickle.loads(self.store.read(int.from_bytes(header, "big")))  # noqa: S301
        finally:
            self.store.seek(0, 2)

    def close(self) -> None:
        self.store.close()


class _NoIndex(dict[str, Any]):
    """``ZipFile.NameToInfo`` that remembers nothing (write-only archives never look up)."""

    def __setitem__(self, key: str, value: Any) -> None:
        return None


class SpooledZipFile(zipfile.ZipFile):
    def __init__(self, file: IO[bytes], **kwargs: Any) -> None:
        super().__init__(file, "w", **kwargs)
        self.filelist = _SpooledInfos()  # type: ignore[assignment]
        self.NameToInfo = _NoIndex()

    def close(self) -> None:
        try:
            super().close()
        finally:
            infos = self.filelist
            if isinstance(infos, _SpooledInfos):
                infos.close()
