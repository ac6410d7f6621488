"""Each read model's schema version, in one place the quickest commands can read without loading the
projections themselves. Bump a version when its tables or their meaning change: the projection is then
dropped and rebuilt from the start of history."""

STATUS = 4
METRICS = 5
HISTORY = 1
CRISIS = 5
