// Tests for this module live beside this file; this placeholder keeps the target non-empty
// until they land.
