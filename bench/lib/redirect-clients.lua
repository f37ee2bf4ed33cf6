-- wrk script of bench/redirect.sh: every request carries X-Forwarded-For with an address drawn at
-- random from CLIENTS_FILE (one IPv4 address a line: a host in each of the 5,000 located /24s),
-- as a trusted proxy in front of the server would send it. REQUEST_PATH is the path asked;
-- AUTHORIZATION, when set, is sent as the Authorization header (the admin read route).
-- DELAY_MS, when set, makes each connection wait that long between requests (a paced load:
-- connections x 1000 / DELAY_MS requests a second at most).
local clients = {}
local path = os.getenv("REQUEST_PATH") or "/"
local auth = os.getenv("AUTHORIZATION")
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  for line in io.lines(os.getenv("CLIENTS_FILE")) do
    clients[#clients + 1] = line
  end
  math.randomseed(os.time() * 100 + id)
end

function request()
  local headers = { ["X-Forwarded-For"] = clients[math.random(#clients)] }
  if auth then headers["Authorization"] = auth end
  return wrk.format("GET", path, headers)
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end
