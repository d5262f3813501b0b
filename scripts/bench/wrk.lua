-- wrk script: each request is signed for a random one of the seeded users.
-- Environment: BENCH_TOKENS (file, one token per line), BENCH_MODE:
--   get           GET /me/
--   public        GET /{id}/: another seeded user's public view (ids are 1..N, a token per line)
--   patch-bio     PATCH /me/ of bio
--   patch-mixed   PATCH /me/ of one of six field sets at random (see `mixed` below)
--   patch-skills  PATCH /me/ replacing skills with three names
--   read-mostly   90 % GET, 10 % patch-mixed
local tokens = {}
local mode = os.getenv("BENCH_MODE") or "get"
local path = "/api/v1/iam/iamuserdetails/me/"
local skills = {"Rust", "Python", "Go", "TypeScript", "PostgreSQL", "Kubernetes", "PyTorch", "React",
                "Django", "CUDA", "Kafka", "Redis", "GraphQL", "AWS", "C++", "Zig", "Elixir", "Julia"}
local countries = {"Pakistan", "Germany", "Brazil", "Japan", "Kenya", "Canada", "India", "Chile"}

function init(args)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    tokens[#tokens + 1] = line
  end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
end

local function patch(headers, body, media)
  headers["Content-Type"] = media or "application/json"
  return wrk.format("PATCH", path, headers, body)
end

-- The mixed field sets: a text, another text, a URL, a boolean, two fields at once, and a JSON
-- Merge Patch of a document (read, merged and written under a version guard).
local mixed = {
  function(h) return patch(h, '{"bio":"bench ' .. math.random(1000000000) .. '"}') end,
  function(h) return patch(h, '{"country":"' .. countries[math.random(#countries)] .. '"}') end,
  function(h) return patch(h, '{"github_url":"https://github.com/u' .. math.random(1000000) .. '"}') end,
  function(h) return patch(h, '{"platform_features_emails":' .. (math.random(2) == 1 and "true" or "false") .. '}') end,
  function(h)
    return patch(h, '{"bio":"both ' .. math.random(1000000000) .. '","country":"'
      .. countries[math.random(#countries)] .. '"}')
  end,
  function(h)
    return patch(h, '{"additional_data":{"bench":' .. math.random(1000000) .. '}}',
      "application/merge-patch+json")
  end,
}

request = function()
  local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] }
  if mode == "get" or (mode == "read-mostly" and math.random(10) > 1) then
    return wrk.format("GET", path, headers)
  elseif mode == "public" then
    return wrk.format("GET", "/api/v1/iam/iamuserdetails/" .. math.random(#tokens) .. "/", headers)
  elseif mode == "patch-bio" then
    return mixed[1](headers)
  elseif mode == "patch-mixed" or mode == "read-mostly" then
    return mixed[math.random(#mixed)](headers)
  else
    local a, b, c = math.random(#skills), math.random(#skills), math.random(#skills)
    return patch(headers, '{"skills":["' .. skills[a] .. '","' .. skills[b] .. '","' .. skills[c] .. '"]}')
  end
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.status + summary.errors.timeout
  -- errors, then by kind: non-2xx answers, requests over wrk's timeout (2 s), socket errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d requests=%d"
      .. " status=%d timeout=%d socket=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors, summary.requests, summary.errors.status,
    summary.errors.timeout, summary.errors.connect + summary.errors.read + summary.errors.write))
end
