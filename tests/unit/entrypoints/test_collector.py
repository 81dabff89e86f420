"""While an app serves, the young generation is collected less often and what the app
built is frozen; once the last app stops, the process has CPython's settings back."""

import gc

from entrypoints import collector
from entrypoints.collector import YOUNG_THRESHOLD


def test_serving_raises_the_young_threshold_until_the_last_app_stops() -> None:
    before = gc.get_threshold()
    collector.settle()  # a first app
    try:
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0  # what existed is out of the collector's sight
        collector.settle()  # a second app
        collector.restore()  # the first stops
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD  # the second app still serves
    finally:
        collector.restore()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
