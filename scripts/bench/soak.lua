-- wrk script of the soak: a mixed load that runs for minutes.
-- Environment: SOAK_TOKENS (seeded users, one token per line; read and written),
--              SOAK_CHURN (users whose details are created and deleted over and over).
-- Of every 20 requests: 12 GET, 2 PATCH bio, 1 PATCH country, 1 PATCH a link, 1 merge patch of a
-- document, 1 PATCH skills, 2 create-or-delete of a churn user. A churn user may already have or
-- lack details, so 409 and 404 are expected there; anything 5xx, 400, 401, 412, 413 or 415, and
-- every socket error, is counted as an error.
local tokens, churn = {}, {}
local path = "/api/v1/iam/iamuserdetails/me/"
local create = "/api/v1/iam/iamuserdetails/"
local n = 0
unexpected = 0 -- a global of each thread's state, read by done() through thread:get
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

local function load(file, into)
  for line in io.lines(file) do into[#into + 1] = line end
end

function init(args)
  load(os.getenv("SOAK_TOKENS"), tokens)
  load(os.getenv("SOAK_CHURN"), churn)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
end

request = function()
  n = n + 1
  local slot = n % 20
  local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] }
  if slot < 12 then
    return wrk.format("GET", path, headers)
  end
  headers["Content-Type"] = "application/json"
  local r = math.random(1000000000)
  if slot < 14 then
    return wrk.format("PATCH", path, headers, '{"bio":"soak ' .. r .. '"}')
  elseif slot == 14 then
    return wrk.format("PATCH", path, headers, '{"country":"C' .. (r % 200) .. '"}')
  elseif slot == 15 then
    return wrk.format("PATCH", path, headers, '{"website_url":"https://example.com/' .. r .. '"}')
  elseif slot == 16 then
    headers["Content-Type"] = "application/merge-patch+json"
    return wrk.format("PATCH", path, headers, '{"company_info":{"k' .. (r % 8) .. '":' .. r .. '}}')
  elseif slot == 17 then
    return wrk.format("PATCH", path, headers, '{"skills":["Rust","S' .. (r % 50) .. '"]}')
  end
  headers["Authorization"] = "Bearer " .. churn[math.random(#churn)]
  if slot == 18 then
    return wrk.format("POST", create, headers, '{"user_type":"developer","bio":"churn"}')
  end
  headers["Content-Type"] = nil
  return wrk.format("DELETE", path, headers)
end

-- The statuses counted as errors, each kept in a global of the thread's state.
local counted = {400, 401, 412, 413, 415, 500, 502, 503, 504}

response = function(status, headers, body)
  if status >= 500 or status == 400 or status == 401 or status == 412 or status == 413
      or status == 415 then
    unexpected = unexpected + 1
    local name = "s" .. status
    _G[name] = (_G[name] or 0) + 1
  end
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.timeout
  local by_status = ""
  for _, thread in ipairs(threads) do
    errors = errors + (thread:get("unexpected") or 0)
  end
  for _, status in ipairs(counted) do
    local n = 0
    for _, thread in ipairs(threads) do
      n = n + (thread:get("s" .. status) or 0)
    end
    if n > 0 then by_status = by_status .. " " .. status .. "x" .. n end
  end
  local sockets = summary.errors.connect + summary.errors.read + summary.errors.write
                + summary.errors.timeout
  if sockets > 0 then by_status = by_status .. " socket-errors x" .. sockets end
  if by_status ~= "" then io.write("ERRORS" .. by_status .. "\n") end
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors, summary.requests))
end
