"""The pytest plugin: `.storm` files with `# expect:` headers as test items, only when asked."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

import checker.cli
import checker.pytest_plugin  # noqa: F401
from checker.model import load_text

pytest_plugins = ["pytester"]
load_text("protocol warm\nvar x: 0..1 = 0\ncheck invariant ok: x >= 0\n")

SPEC = """\
# A tiny spec: two clients, {cap} slot(s).
# expect: nonneg holds null
# expect: no_storm {storm}
#
# run: --set CAP=2
# expect: no_storm holds null
protocol tiny
const N = 2
const CAP = {cap}
var free: 0..CAP = CAP
node client count N {{
  states idle, waiting, done
  rule ask: idle -> waiting
  progress rule get: waiting -> done when free > 0 {{ free -= 1 }}
  retry rule again: waiting -> waiting when free == 0
}}
check invariant nonneg: free >= 0
check no_storm
"""


def _plugin_args() -> list[str]:
    """Load the plugin by module name only when the entry point is not installed."""
    installed = any(ep.value == "checker.pytest_plugin" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "checker.pytest_plugin"]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # other installed plugins cost seconds of start-up per inline run; the test needs none of them
    quiet = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark"]
    return pytester.runpytest(*_plugin_args(), *quiet, *args)


def test_not_collected_without_opting_in(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", tiny=SPEC.format(cap=1, storm="violated"))
    result = run(pytester)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.assert_outcomes()


def test_storm_flag_collects_one_item_per_expect_line(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", tiny=SPEC.format(cap=1, storm="violated null"))
    result = run(pytester, "--storm", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "*tiny.storm::nonneg PASSED*",
        "*tiny.storm::no_storm PASSED*",
        "*tiny.storm::no_storm?--set CAP=2? PASSED*",
    ])


def test_ini_option_opts_in(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", tiny=SPEC.format(cap=1, storm="violated"))
    pytester.makeini("[pytest]\nstorm_collect = true\n")
    run(pytester).assert_outcomes(passed=3)


def test_a_wrong_expectation_fails_with_the_explanation(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", tiny=SPEC.format(cap=1, storm="holds"))
    result = run(pytester, "--storm")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*no_storm: expected holds, got violated null (VIOLATED)*",
        "*Futile retries, a shortage rather than a retry storm: from tick 2 the loop repeats*",
    ])
    assert "Traceback" not in result.stdout.str()


def test_ticks_are_compared_when_given(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", tiny=SPEC.format(cap=1, storm="violated 3"))
    result = run(pytester, "--storm")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*expected violated 3, got violated null*"])


def test_files_without_expect_lines_are_ignored(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", plain="protocol p\nvar x: 0..1 = 0\ncheck invariant ok: x >= 0\n")
    result = run(pytester, "--storm")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_unknown_check_name(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", tiny=SPEC.format(cap=1, storm="violated").replace(
        "# expect: nonneg holds null", "# expect: nonnge holds null"))
    result = run(pytester, "--storm")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*no check named 'nonnge'*did you mean 'nonneg'?*"])


def test_a_spec_error_fails_its_items(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", broken="# expect: ok holds\nprotocol p\nvar x: 0..1 = 0\ncheck invariant ok: y >= 0\n")
    result = run(pytester, "--storm")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*broken.storm:4:*unknown name 'y'*"])


def test_a_malformed_header_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", bad="# expect: ok maybe\nprotocol p\nvar x: 0..1 = 0\ncheck invariant ok: x >= 0\n")
    result = run(pytester, "--storm")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*RESULT one of holds, holds_bounded, violated, unknown*"])


def test_bad_run_arguments_fail_the_run(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", tiny=SPEC.format(cap=1, storm="violated").replace(
        "# run: --set CAP=2", "# run: --set CAPP=2"))
    result = run(pytester, "--storm")
    result.assert_outcomes(passed=2, failed=1)
    assert "CAPP" in result.stdout.str()


def test_storm_args_apply_to_every_run(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", tiny=SPEC.format(cap=2, storm="holds_bounded").replace(
        "# expect: nonneg holds null", "# expect: nonneg holds_bounded"))
    pytester.makeini("[pytest]\nstorm_collect = true\nstorm_args = --ticks 0\n")
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2, failed=1)  # the run under CAP=2 expects 'holds'
    result.stdout.fnmatch_lines(["*no_storm?--set CAP=2? FAILED*"])


def test_a_wrong_diagnosis_fails_and_a_right_one_passes(pytester: pytest.Pytester) -> None:
    # one slot for two clients, never released: the waiting client's retries are futile
    wrong = SPEC.format(cap=1, storm="violated null\n# diagnosis: no_storm sustained")
    pytester.makefile(".storm", tiny=wrong)
    result = run(pytester, "--storm")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*no_storm: expected a storm diagnosed sustained, got futile*"])
    pytester.makefile(".storm", tiny=SPEC.format(cap=1, storm="violated null\n# diagnosis: no_storm futile"))
    run(pytester, "--storm").assert_outcomes(passed=3)


def test_a_diagnosis_line_without_its_expect_line_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".storm", tiny="# diagnosis: no_storm futile\n" + SPEC.format(cap=1, storm="violated null"))
    result = run(pytester, "--storm")
    result.stdout.fnmatch_lines(["*needs an earlier '# expect: no_storm ...' line in the same run*"])
