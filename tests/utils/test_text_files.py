"""read_text_lines: UTF-8 lines, a BOM and CRLF dropped, and a bad byte
reported as one InputError naming the file, line, column and byte."""
import pytest

from mafsar_mm.utils.errors import InputError, format_error
from mafsar_mm.utils.text_files import read_text_lines


def test_lines_bom_and_crlf(tmp_path):
    path = tmp_path / 'classes.txt'
    path.write_bytes(b'\xef\xbb\xbfcaf\xc3\xa9\r\n\r\nrun\njump')
    assert read_text_lines(str(path)) == ['caf\u00e9', '', 'run', 'jump']
    path.write_bytes(b'')
    assert read_text_lines(str(path)) == []


def test_bad_byte_names_file_line_column_and_byte(tmp_path):
    path = tmp_path / 'classes.txt'
    path.write_bytes(b'run\njump\ncaf\xe9 au lait\n')  # Latin-1 e-acute
    with pytest.raises(InputError) as exc:
        read_text_lines(str(path))
    assert format_error(exc.value) == (
        f'{path}:3: byte 0xe9 at column 4 is not valid UTF-8 (invalid '
        'continuation byte); save the file as UTF-8.')
    assert exc.value.__cause__ is None and exc.value.__suppress_context__
