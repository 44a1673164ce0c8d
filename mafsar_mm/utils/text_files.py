"""Reading the users' text files (class names, annotation and split lists).

All of them are UTF-8 (a leading byte-order mark is allowed and dropped).
A byte that is not valid UTF-8 is reported as one :class:`InputError`
naming the file, the line, the column and the byte, instead of Python's
``UnicodeDecodeError`` from deep inside a reader.
"""
from typing import List

from .errors import InputError

_BOM = b'\xef\xbb\xbf'


def read_text_lines(path: str) -> List[str]:
    """The lines of a UTF-8 text file, without their line endings.

    Lines end at ``\\n``; a ``\\r`` before it (CRLF files) is removed too.

    Args:
        path (str): The file.

    Returns:
        list[str]: One string per line (a final line ending does not start
        another line).

    Raises:
        InputError: If the file holds a byte sequence that is not UTF-8,
            e.g. ``classes.txt:3: byte 0xe9 at column 5 is not valid
            UTF-8 ...``.
        OSError: If the file cannot be read.
    """
    with open(path, 'rb') as f:
        data = f.read()
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    lines = data.split(b'\n')
    if lines and not lines[-1]:
        lines.pop()
    text = []
    for lineno, raw in enumerate(lines, 1):
        try:
            line = raw.decode('utf-8')
        except UnicodeDecodeError as err:
            raise InputError(
                f'{path}:{lineno}: byte 0x{raw[err.start]:02x} at column '
                f'{err.start + 1} is not valid UTF-8 ({err.reason}); save '
                'the file as UTF-8.') from None
        text.append(line[:-1] if line.endswith('\r') else line)
    return text
