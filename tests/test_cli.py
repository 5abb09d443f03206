from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from conftest import MNIST_DIR, Split, free_port, number, on_paper, run_python
from PIL import Image

import digitcnn
from digitcnn import DigitClassifier
from digitcnn._cli import main


@pytest.fixture(scope="module")
def model_file(fitted: DigitClassifier, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "model.keras"
    fitted.save(path)
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_train_saves_a_model(
    small_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "m.keras"
    argv = ["train", "--data", str(small_data), "--recipe", "fast", "--epochs", "1", "--quiet"]
    status, out, _ = run([*argv, "--seed", "0", "--output", str(output)], capsys)
    assert status == 0
    assert out.startswith("test accuracy 0.")
    assert DigitClassifier.load(output).recipe == "fast"


def test_evaluate_prints_metrics_and_confusion(
    model_file: Path, small_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(["evaluate", str(model_file), "--data", str(small_data)], capsys)
    assert status == 0
    assert out.startswith("accuracy 0.")
    assert "on 500 test images" in out
    assert "precision  recall" in out
    matrix = [line.split()[1:] for line in out.splitlines()[-10:]]
    assert sum(int(n) for row in matrix for n in row) == 500


def test_predict_reads_files_and_folders(
    model_file: Path, test_slice: Split, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Image.fromarray(on_paper(test_slice[0][0])).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"junk")
    argv = ["predict", str(tmp_path), "--model", str(model_file), "--json"]
    status, out, err = run(argv, capsys)
    assert status == 1
    assert err == "digitcnn predict: error: 1 of 2 images could not be read\n"
    results = json.loads(out)
    assert [r["status"] for r in results] in (["ok", "error"], ["unsure", "error"])
    assert results[0]["file"].endswith("a.png")
    assert 0 <= results[0]["label"] <= 9
    assert "not an image" in results[1]["error"]
    status, out, _ = run(["predict", str(tmp_path / "a.png"), "--model", str(model_file)], capsys)
    assert status == 0
    assert out.startswith(f"{tmp_path / 'a.png'}: ")


def test_predict_number_reads_a_whole_number_with_boxes(
    test_slice: Split, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = test_slice
    picture = tmp_path / "number.png"
    Image.fromarray(number([x[0], x[1], x[2]], gap=0)).save(picture)  # digits close together
    status, out, _ = run(["predict", "--number", str(picture), "--json"], capsys)
    assert status == 0
    [result] = json.loads(out)
    assert result["number"] == "".join(str(d) for d in y[:3])
    assert len(result["boxes"]) == len(result["confidences"]) == 3
    status, out, _ = run(["predict", "--number", str(picture)], capsys)
    assert out.startswith(f"{picture}: {result['number']}  [")


def test_predict_reader_needs_number_and_a_reader_file(
    test_slice: Split, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    picture = tmp_path / "digit.png"
    Image.fromarray(on_paper(test_slice[0][0])).save(picture)
    status, _, err = run(["predict", str(picture), "--reader", "r.keras"], capsys)
    assert (status, err) == (
        1,
        "digitcnn predict: error: --reader is for reading numbers: add --number\n",
    )
    status, _, err = run(
        ["predict", "--number", str(picture), "--reader", str(tmp_path / "r.keras")], capsys
    )
    assert status == 1
    assert err.startswith("digitcnn predict: error: model file not found")


def test_export_and_info(
    model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "m.tflite"
    argv = ["export", str(output), "--model", str(model_file), "--format", "tflite"]
    status, out, _ = run(argv, capsys)
    assert (status, out.strip()) == (0, f"exported to {output}")
    assert output.stat().st_size > 0
    status, out, _ = run(["info", str(model_file)], capsys)
    assert status == 0
    info = json.loads(out)
    assert info["format"] == "digitcnn.DigitClassifier"
    assert info["parameters"] > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["info", "missing.keras"], "digitcnn info: error: model file not found: missing.keras"),
        (["evaluate", "missing.keras"], "digitcnn evaluate: error: model file not found"),
        (["predict", "nowhere/"], "digitcnn predict: error: no such file or folder: nowhere"),
        (["export", "x.keras", "--int8"], "digitcnn export: error: --int8 needs --format tflite"),
        (["train", "--data", "nowhere"], "digitcnn train: error: "),
    ],
)
def test_failures_end_with_one_line_on_stderr(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(argv, capsys)
    assert status == 1
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_a_bug_inside_digitcnn_shows_its_traceback(
    model_file: Path, small_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise ValueError("a bug, not the user's input")

    monkeypatch.setattr(digitcnn, "confusion_matrix", broken)
    with pytest.raises(ValueError, match="a bug, not the user's input"):
        main(["evaluate", str(model_file), "--data", str(small_data)])


def test_a_broken_file_is_one_line_but_a_bug_in_reading_it_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip archive")
    status, _, err = run(["evaluate", str(broken)], capsys)
    assert status == 1
    reason = "is not a digitcnn model: not a .keras (zip) archive"
    assert err == f"digitcnn evaluate: error: {broken} {reason}\n"

    def load_with_a_bug(path: object) -> None:
        raise ValueError("a bug that does not name the file")

    monkeypatch.setattr(digitcnn.DigitClassifier, "load", load_with_a_bug)
    with pytest.raises(ValueError, match="a bug that does not name the file"):
        main(["evaluate", str(broken)])


def test_plots_to_an_unknown_format_are_one_line(
    model_file: Path, small_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.xyz"
    status, _, err = run(
        ["evaluate", str(model_file), "--data", str(small_data), "--plot", str(target)], capsys
    )
    assert status == 1
    assert f"cannot save the plots to {target}" in err.splitlines()[-1]
    assert not target.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--epochs", "0"], "argument --epochs: epochs must be at least 1; got 0"),
        (["train", "--seed", "-1"], "argument --seed: seed must be at least 0; got -1"),
        (
            ["predict", "x.png", "--min-confidence", "2"],
            "argument --min-confidence: min_confidence must be in [0.0, 1.0]; got 2.0",
        ),
        (["train", "--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
    ],
)
def test_bad_numbers_exit_with_usage(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_empty_folder_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["predict", str(tmp_path)], capsys)
    assert status == 1
    assert f"folder {tmp_path} has no image files" in err


def test_bad_arguments_exit_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--recipe", "slow"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'slow'" in capsys.readouterr().err


def test_python_dash_m_runs_the_command_line() -> None:
    result = run_python("-m", "digitcnn", "evaluate", "--help", timeout=120)
    assert result.returncode == 0
    assert "usage: digitcnn evaluate" in result.stdout
    assert MNIST_DIR.exists()


def test_predict_on_a_missing_path_fails_before_tensorflow_loads() -> None:
    code = (
        "import sys; from digitcnn._cli import main; status = main(['predict', 'missing.png']); "
        "print(status, 'tensorflow' in sys.modules)"
    )
    result = run_python("-c", code, timeout=120)
    assert result.stdout.split() == ["1", "False"]
    assert result.stderr == "digitcnn predict: error: no such file or folder: missing.png\n"


def test_serve_prints_its_address_hides_tensorflow_and_stops_cleanly_on_ctrl_c() -> None:
    # one worker, for time: .ci/run starts the default (a worker per core) from the wheel
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "digitcnn", "serve", "--port", str(port), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    guard = threading.Timer(180, server.kill)  # a hung server fails the test, not the suite
    guard.start()
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith(f"digitcnn serve: http://127.0.0.1:{port}/ ")
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok"
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=60)
    finally:
        guard.cancel()
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0
    assert out == "digitcnn serve: stopped\n"
    assert err == ""  # nothing of TensorFlow's start-up (oneDNN, cuInit, absl) either


def test_serve_on_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_python("-m", "digitcnn", "serve", "--port", port, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith(f"digitcnn serve: error: cannot listen on 127.0.0.1:{port}: ")
    assert result.stderr.count("\n") == 1
