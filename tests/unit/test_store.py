import pytest

from nbreports.errors import StoreError, UnsafePathError
from nbreports.identifiers import check_report_name, new_run_id
from nbreports.storage.store import Store, open_store


@pytest.mark.parametrize("name", ["..", "../x", "a/b", "/etc", "A", "", "x" * 64, "a b", ".hidden", "é"])
def test_names_that_could_escape_the_store_are_rejected(name):
    with pytest.raises(UnsafePathError, match="invalid report name"):
        check_report_name(name)
    with pytest.raises(UnsafePathError):
        Store.run_key(name, new_run_id())


@pytest.mark.parametrize("key", ["../outside", "/abs/path", "runs/../../x", "a//b"])
def test_keys_that_escape_the_root_are_rejected(store, key):
    with pytest.raises(UnsafePathError):
        store.write_bytes(key, b"x")


def test_write_read_and_list(store):
    uri = store.write_bytes("runs/r/1/a.txt", b"hello")
    assert uri.endswith("runs/r/1/a.txt")
    assert store.read_bytes("runs/r/1/a.txt") == b"hello"
    assert store.exists("runs/r/1/a.txt")
    assert not store.exists("runs/r/1/b.txt")
    store.write_json("runs/r/1/b.json", {"x": 1})
    assert store.list("runs/r/1") == ["a.txt", "b.json"]


def test_missing_object_is_a_store_error_naming_it(store):
    with pytest.raises(StoreError, match=r"nope\.txt does not exist"):
        store.read_bytes("runs/r/1/nope.txt")


def test_local_writes_leave_no_temporary_files(local_store, tmp_path):
    for i in range(5):
        local_store.write_bytes("runs/r/x/f", str(i).encode())
    assert [p.name for p in (tmp_path / "store/runs/r/x").iterdir()] == ["f"]


def test_run_ids_are_unique_even_in_the_same_second():
    assert len({new_run_id() for _ in range(1000)}) == 1000


def test_unknown_scheme_is_refused():
    with pytest.raises(StoreError, match="no store for URL scheme 'ftp'"):
        open_store("ftp://host/x")
