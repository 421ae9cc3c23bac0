"""The folders the tests read, in one place: the test folders mirror padlint's packages
(tests/sizes/ tests padlint/sizes/ …), so a test file must not count its own depth with
``Path(__file__).parent.parent``. These are module constants rather than fixtures because
several are needed at import time (parametrize lists, module-level loads)."""
import os
from pathlib import Path

TESTS = Path(__file__).resolve().parent      # tests/
ROOT = TESTS.parent                          # the repository
DATA = TESTS / "data"                        # schemas and fixture files
GOLDEN = TESTS / "golden"                    # output snapshots (PADLINT_UPDATE_GOLDEN=1 rewrites them)
FRONTDOOR = TESTS / "frontdoor"              # the front-door models of issue 19
EXAMPLES = ROOT / "examples"                 # the example models of the README


def check_golden(name: str, text: str) -> None:
    """``text`` must equal the snapshot ``tests/golden/NAME`` (PADLINT_UPDATE_GOLDEN=1 rewrites it)."""
    path = GOLDEN / name
    if os.environ.get("PADLINT_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()
