-- wrk script: each connection pauses before every request for a random, exponentially
-- distributed time with a mean of BENCH_PAUSE_MS milliseconds. Over many connections the
-- requests arrive as a Poisson stream of (connections / pause) per second, so two servers can
-- be compared at the same offered load instead of each at its own saturation point.
local mean_pause_ms = tonumber(os.getenv("BENCH_PAUSE_MS"))
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + thread_number)
end

function delay()
  return -mean_pause_ms * math.log(1 - math.random())
end
