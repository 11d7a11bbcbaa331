-- wrk script for bench/load_mix.py: round-robin over the paths in $LOAD_PATHS (one per line,
-- "page <path>" or "api <path>"), with the session cookie for pages and the token for the API.
local paths = {}
local counter = 0

function init(args)
  for line in io.lines(os.getenv("LOAD_PATHS")) do
    local kind, path = line:match("^(%S+)%s+(%S+)$")
    if kind then table.insert(paths, { kind = kind, path = path }) end
  end
  counter = math.random(#paths)
end

function request()
  counter = counter % #paths + 1
  local item = paths[counter]
  local headers = {}
  if item.kind == "api" then
    headers["Authorization"] = "Token " .. os.getenv("LOAD_TOKEN")
  else
    headers["Cookie"] = "sessionid=" .. os.getenv("LOAD_SESSION")
  end
  return wrk.format("GET", item.path, headers)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "RESULT {\"requests\": %d, \"seconds\": %.3f, \"errors\": %d, \"p50_ms\": %.1f, "
      .. "\"p95_ms\": %.1f, \"p99_ms\": %.1f, \"max_ms\": %.1f}\n",
    summary.requests, summary.duration / 1e6, errors, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
