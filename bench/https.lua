-- wrk script for bench.https: POST one stock move per request, each with a fresh Idempotency-Key.
-- Arguments (after --): <key prefix> <bearer token> <JSON body>. Prints HTTPS_RESULT with the 201s counted.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  prefix = string.format("%s-t%d-", args[1], tid)
  token = args[2]
  body = args[3]
  counter = 0
  created = 0
  other = 0
end

function request()
  counter = counter + 1
  return wrk.format("POST", nil, {
    ["Host"] = wrk.headers["Host"],
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. counter,
  }, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  io.write(string.format("HTTPS_RESULT created=%d other=%d duration_us=%d errors=%d p50_us=%d p99_us=%d\n",
    c, o, summary.duration, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
