-- wrk script: POST a valid Boond webhook event (delivery update) to one tenant's URL.
-- Every request carries a unique event id (a repeated one would be answered 204 "duplicate") and a
-- unique delivery id, so every request takes the whole receive path: secret check, parse, dedupe key,
-- pending flag and an rq enqueue. (A pooled delivery id would be answered "coalesced" after its first
-- use, since no worker drains the queue during the run: a cheaper path than a real burst of changes.)
-- Usage: wrk -s webhook.lua <url> -- <run prefix> [close]; prints one JSON line at the end.

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1] or "run"
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[2] == "close" then
    wrk.headers["Connection"] = "close"  -- a new connection per request, as a host delivering one webhook
  end
end

function request()
  counter = counter + 1
  local id = prefix .. "-" .. tid .. "-" .. counter
  local body = '{"data":{"id":"ev-' .. id .. '","type":"webhookevent","attributes":{"type":"update"},'
    .. '"relationships":{"dependsOn":{"data":{"id":"d-' .. id .. '","type":"delivery"}}}}}'
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,"read_errors":%d,'
    .. '"write_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
