/**
 * The shared part of the engine's Lua library: key names, group floors, expiry, the publish that
 * every admission goes through (a topic's own publish and a dead letter into another topic), and
 * dead-lettering. Every call runs atomically on the server's clock (`TIME`). The library's top
 * level runs once, when it is loaded (`FUNCTION LOAD`); a call runs only `begin` and its operation.
 *
 * Keys of topic `t` under prefix `p` carry the hash tag `{t}`: `p:{t}:s` the stream, `:m` the
 * meta hash (options and counters), `:l` member leases (zset of `group\nconsumer`), `:p`
 * publisher leases (hash: publisher → `expiry:slots`, see {@link publishInto}), and per group
 * `:g:<g>` counters, `:d:<g>` due times of returned entries (zset), `:x:<g>` dead letters waiting
 * for room in a `block` dead-letter topic. Offset n is stream id `0-(n+1)`.
 *
 * PEL owners: a member's consumer name; `~ret` for entries handed back (nacked, returned by a
 * closing member) until their due time; `~dead` for dead letters waiting for room.
 *
 * A group's `gen` counter (in `:g:<g>`) moves whenever entries may leave their holder other than
 * by its own settlement or their ack timeout: a commit, a seek, a member handing back what it
 * held. A member's lean `ack` checks only that, not each entry's owner.
 */
export const LUA_CORE = String.raw`
-- set by begin() at the start of every call
local op, prefix, topic, now, T
local function int(n) return string.format('%d', n) end
local function keys(name)
  local b = prefix .. ':{' .. name .. '}'
  return { s = b .. ':s', m = b .. ':m', l = b .. ':l', p = b .. ':p', b = b }
end
local function begin(args)
  op, prefix, topic = args[1], args[2], args[3]
  -- the lean ack needs no clock
  if op ~= 'ack' then
    local clock = redis.call('TIME')
    now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
  end
  T = keys(topic)
end
local function gk(K, g) return K.b .. ':g:' .. g end
local function dk(K, g) return K.b .. ':d:' .. g end
local function xk(K, g) return K.b .. ':x:' .. g end
local function seq(id) return tonumber(string.match(id, '%-(%d+)$')) end
local function idOf(s) return '0-' .. int(s) end
local function flat(a) local o = {} for i = 1, #a, 2 do o[a[i]] = a[i + 1] end return o end
local function meta(K) return flat(redis.call('HGETALL', K.m)) end
local function num(x) return tonumber(x or '0') or 0 end

local function groups(K)
  if redis.call('EXISTS', K.s) == 0 then return {} end
  local out = {}
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', K.s)) do
    local f = flat(g)
    out[#out + 1] = { name = f['name'], pending = f['pending'], last = seq(f['last-delivered-id']) }
  end
  return out
end
local function findGroup(K, name)
  for _, g in ipairs(groups(K)) do if g.name == name then return g end end
  return nil
end
local function pel1(K, g, id)
  local p = redis.call('XPENDING', K.s, g, id, id, 1)
  return p[1]
end
local function forget(K, g, id)
  redis.call('ZREM', dk(K, g), id)
  redis.call('HDEL', xk(K, g), id)
end
-- the lowest sequence the group still needs: its oldest pending entry, else the next undelivered
local function floorOf(K, g)
  if g.pending > 0 then return seq(redis.call('XPENDING', K.s, g.name, '-', '+', 1)[1][1]) end
  return g.last + 1
end
-- offsets published: the stream's count of entries ever added (ids are contiguous from 0-1)
local function tailOf(K)
  if redis.call('EXISTS', K.s) == 0 then return 0 end
  local info = redis.call('XINFO', 'STREAM', K.s)
  for i = 1, #info, 2 do
    if info[i] == 'entries-added' then return info[i + 1] end
  end
  return 0
end
-- the next offset never delivered to the group: the first retained entry past its last delivery
local function nextOf(K, g)
  local e = redis.call('XRANGE', K.s, '(' .. idOf(g.last), '+', 'COUNT', 1)
  if #e > 0 then return seq(e[1][1]) - 1 end
  return math.max(tailOf(K), g.last)
end

-- removes an entry from the stream; each group that had not settled it counts it under 'counter'.
-- Answers whether some group had not.
local function removeEntry(K, id, gs, counter)
  local s = seq(id)
  local needed = false
  for _, g in ipairs(gs) do
    if s > g.last then
      redis.call('HINCRBY', gk(K, g.name), counter, 1)
      needed = true
    elseif pel1(K, g.name, id) then
      redis.call('XACK', K.s, g.name, id)
      forget(K, g.name, id)
      redis.call('HINCRBY', gk(K, g.name), counter, 1)
      needed = true
    end
  end
  redis.call('XDEL', K.s, id)
  return needed
end

-- TTL: entries whose expiry field has passed are removed and counted (agedOut: no group needed them)
local function sweepTtl(K, M)
  if M.ttlAny ~= '1' then return end
  local gs = nil
  local n, aged = 0, 0
  for _, e in ipairs(redis.call('XRANGE', K.s, '-', '+', 'COUNT', 512)) do
    local f = flat(e[2])
    if f.e and tonumber(f.e) <= now then
      gs = gs or groups(K)
      if not removeEntry(K, e[1], gs, 'expired') then aged = aged + 1 end
      n = n + 1
    end
  end
  if n > 0 then redis.call('HINCRBY', K.m, 'expired', n) end
  if aged > 0 then redis.call('HINCRBY', K.m, 'agedOut', aged) end
end

-- Publisher leases (block and reject only): a publish call may grant its publisher 'slots' free
-- places, which it then fills with plain XADDs (no function call) until it uses them up, its
-- lease time passes on its own clock, or it calls again (which ends the lease). Every capacity
-- check counts the places leased to others as taken. A lease the server has not heard back on
-- lapses after LEASE_HOLD ms; the publisher stops using it LEASE_USE ms after it asked.
local LEASE_HOLD, LEASE_MAX = 3000, 512
-- places leased to publishers other than 'except' (whose lease ends here); lapsed leases are removed
local function leased(K, except)
  local all = redis.call('HGETALL', K.p)
  if #all == 0 then return 0 end
  local n = 0
  for i = 1, #all, 2 do
    local until_, slots = string.match(all[i + 1], '^(%d+):(%d+)$')
    if all[i] == except or tonumber(until_) <= now then
      redis.call('HDEL', K.p, all[i])
    else
      n = n + tonumber(slots)
    end
  end
  return n
end

-- Appends n entries, each five values of 'list' from index 'at' on: value, key, has key ('1'),
-- headers ('' for none), ttl ms ('0' for none). Returns status ('OK', 'FULL', 'CLOSED'), the
-- first offset, the number admitted, the tail, and the places leased to publisher 'lease' (''
-- for none: no lease). 'block' admits what fits (the caller waits for room for the rest) unless
-- 'whole' is set; 'reject' admits all or nothing.
local function publishInto(K, list, at, n, whole, lease)
  local closed, capacity, overflow, ttl, ttlAny = unpack(redis.call('HMGET', K.m, 'closed', 'capacity', 'overflow', 'ttl', 'ttlAny'))
  if closed == '1' then return 'CLOSED', 0, 0, 0, 0 end
  local cap = num(capacity or '1024')
  overflow = overflow or 'block'
  ttl = num(ttl)
  local gs = nil
  -- places leased to other publishers count as taken (there are none under drop-oldest)
  local others = 0
  if overflow ~= 'drop-oldest' then others = leased(K, lease) end
  local len = redis.call('XLEN', K.s) + others
  local admit = n
  if len + n > cap then
    sweepTtl(K, { ttlAny = ttlAny })
    gs = groups(K)
    len = redis.call('XLEN', K.s) + others
  end
  if len + n > cap and #gs > 0 then
    local floor = nil
    for _, g in ipairs(gs) do
      local f = floorOf(K, g)
      if floor == nil or f < floor then floor = f end
    end
    local need = len + n - cap
    if need > 0 then
      for _, e in ipairs(redis.call('XRANGE', K.s, '-', '(' .. idOf(floor), 'COUNT', need)) do
        redis.call('XDEL', K.s, e[1])
        len = len - 1
      end
    end
    if overflow ~= 'drop-oldest' then
      admit = math.max(0, math.min(n, cap - len))
      if admit < n and (overflow == 'reject' or whole) then
        if overflow == 'reject' then redis.call('HINCRBY', K.m, 'rejected', n) end
        return 'FULL', 0, 0, tailOf(K), 0
      end
      if admit == 0 then return 'FULL', 0, 0, tailOf(K), 0 end
    end
  end
  local first, id = nil, nil
  local anyTtl = false
  local stamp = int(now)
  for i = at, at + (admit - 1) * 5, 5 do
    local v, key, hasKey, h, life = list[i], list[i + 1], list[i + 2], list[i + 3], tonumber(list[i + 4])
    if hasKey ~= '1' and h == '' and life == 0 and ttl == 0 then
      id = redis.call('XADD', K.s, '0-*', 'v', v, 't', stamp)
    else
      local args = { 'XADD', K.s, '0-*', 'v', v, 't', stamp }
      if hasKey == '1' then args[#args + 1] = 'k'; args[#args + 1] = key end
      if h ~= '' then args[#args + 1] = 'h'; args[#args + 1] = h end
      if ttl > 0 and (life == 0 or ttl < life) then life = ttl end
      if life > 0 then
        args[#args + 1] = 'e'; args[#args + 1] = int(now + life)
        anyTtl = true
      end
      id = redis.call(unpack(args))
    end
    if first == nil then first = seq(id) - 1 end
  end
  if anyTtl and ttlAny ~= '1' then redis.call('HSET', K.m, 'ttlAny', '1') end
  local over = len + admit - cap
  if over > 0 then
    gs = gs or groups(K)
    if #gs == 0 then
      redis.call('XTRIM', K.s, 'MAXLEN', math.max(0, cap - others))
    else
      local es = redis.call('XRANGE', K.s, '-', '+', 'COUNT', over)
      for _, e in ipairs(es) do removeEntry(K, e[1], gs, 'missed') end
      redis.call('HINCRBY', K.m, 'dropped', #es)
    end
  end
  -- a lease of a quarter of the free places at most, only where every entry can go in plainly
  local slots = 0
  if lease and lease ~= '' and overflow ~= 'drop-oldest' and ttl == 0 then
    slots = math.min(LEASE_MAX, math.floor((cap - len - admit) / 4))
    if slots > 0 then redis.call('HSET', K.p, lease, int(now + LEASE_HOLD) .. ':' .. int(slots)) else slots = 0 end
  end
  if id == nil then return 'OK', 0, 0, tailOf(K), slots end
  return 'OK', first, admit, seq(id), slots
end

-- Dead-letters entry 'id' of group 'g' (topic T): one XADD into the dead-letter topic, with the
-- x-dead-letter-* headers, and the XACK here, in one atomic call. A dead-letter topic under
-- 'block' that is full keeps the entry pending (owner ~dead) until it has room.
local function deadLetter(M, g, id, reason, detail, count)
  local es = redis.call('XRANGE', T.s, id, id)
  local status = 'DROP'
  local dl = M.deadLetter or ''
  if #es > 0 and dl ~= '' then
    local f = flat(es[1][2])
    local h = {}
    if f.h then h = cjson.decode(f.h) end
    h['x-dead-letter-reason'] = reason
    h['x-original-topic'] = topic
    h['x-original-offset'] = int(seq(id) - 1)
    h['x-original-group'] = g
    h['x-deliveries'] = int(count)
    if detail then h['x-dead-letter-detail'] = detail end
    local D = keys(dl)
    status = publishInto(D, { f.v, f.k or '', f.k and '1' or '0', cjson.encode(h), '0' }, 1, 1, true, nil)
    if status == 'FULL' and (redis.call('HGET', D.m, 'overflow') or 'block') == 'block' then
      redis.call('XCLAIM', T.s, g, '~dead', 0, id, 'JUSTID')
      redis.call('ZREM', dk(T, g), id)
      redis.call('HSET', xk(T, g), id, cjson.encode({ reason, detail or false, count }))
      return
    end
  end
  redis.call('XACK', T.s, g, id)
  forget(T, g, id)
  if #es == 0 then return end
  redis.call('HINCRBY', gk(T, g), 'deadLettered', 1)
  if status ~= 'OK' then redis.call('HINCRBY', T.m, 'deadLetterDropped', 1) end
end

-- dead letters that waited for room try again
local function retryDead(M, g)
  local waiting = redis.call('HGETALL', xk(T, g))
  for i = 1, #waiting, 2 do
    local id = waiting[i]
    local p = pel1(T, g, id)
    if p and p[2] == '~dead' then
      local w = cjson.decode(waiting[i + 1])
      deadLetter(M, g, id, w[1], w[2] or nil, w[3])
    else
      redis.call('HDEL', xk(T, g), id)
    end
  end
end

-- hands a consumer's pending entries back to its group (due now), so none is orphaned
local function handBack(g, c)
  redis.call('HINCRBY', gk(T, g), 'gen', 1)
  for _, p in ipairs(redis.call('XPENDING', T.s, g, '-', '+', 100000, c)) do
    redis.call('XCLAIM', T.s, g, '~ret', 0, p[1], 'JUSTID')
    redis.call('ZADD', dk(T, g), now, p[1])
  end
end

local function dropGroup(g)
  redis.call('XGROUP', 'DESTROY', T.s, g)
  redis.call('DEL', gk(T, g), dk(T, g), xk(T, g))
  for _, m in ipairs(redis.call('ZRANGE', T.l, 0, -1)) do
    if string.sub(m, 1, #g + 1) == g .. '\n' then redis.call('ZREM', T.l, m) end
  end
end

-- a member leaves: its entries go back, its consumer goes, a group without a name goes with it
local function part(g, c)
  redis.call('ZREM', T.l, g .. '\n' .. c)
  if not findGroup(T, g) then return end
  handBack(g, c)
  redis.call('XGROUP', 'DELCONSUMER', T.s, g, c)
  if redis.call('HGET', gk(T, g), 'durable') == '0' then dropGroup(g) end
end

-- members whose lease ran out (a process that died) leave
local function sweepLeases()
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', T.l, '-inf', now)) do
    local at = string.find(m, '\n', 1, true)
    part(string.sub(m, 1, at - 1), string.sub(m, at + 1))
  end
end
`;
