-- Format 1.1: `$batch` inner requests and their 429 answers, counted apart from the top-level requests that carry
-- them; and a `login` row for token requests (same columns).
ALTER TABLE request_stats ADD COLUMN inner_requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request_stats ADD COLUMN inner_throttled INTEGER NOT NULL DEFAULT 0;
