import { createHash } from 'node:crypto';
import { LUA_CORE } from './lua-core.js';

/**
 * The engine's operations, dispatched on ARGV[1] after the shared part (see lua-core.ts). ARGV[2]
 * is the key prefix, ARGV[3] the topic; the rest depends on the operation.
 */
const LUA_OPS = String.raw`
local function call(_, ARGV)
begin(ARGV)

if op == 'open' then
  -- options (canonical JSON), capacity, overflow, ttl, ackTimeout, maxDeliveries, deadLetter, groups (JSON)
  local given = ARGV[4]
  local M = meta(T)
  if M.opts and M.opts ~= '' then
    if given ~= '' and given ~= M.opts then return { 'CONFLICT', M.opts } end
  else
    redis.call('HSET', T.m, 'opts', ARGV[5], 'capacity', ARGV[6], 'overflow', ARGV[7], 'ttl', ARGV[8], 'ackTimeout', ARGV[9], 'maxDeliveries', ARGV[10], 'deadLetter', ARGV[11])
    if redis.call('EXISTS', T.s) == 0 then
      redis.call('XGROUP', 'CREATE', T.s, '~init', '$', 'MKSTREAM')
      redis.call('XGROUP', 'DESTROY', T.s, '~init')
    end
    for _, g in ipairs(cjson.decode(ARGV[12])) do
      if not findGroup(T, g) then
        redis.call('XGROUP', 'CREATE', T.s, g, '0')
        redis.call('HSET', gk(T, g), 'durable', '1')
      end
    end
  end
  return { 'OK', redis.call('HGET', T.m, 'opts') }
end

if op == 'pub' then
  -- whole (1: all or nothing), publisher ('' for no lease), then (value, key, hasKey, headers, ttl) per entry
  local status, first, count, tail, slots = publishInto(T, ARGV, 6, (#ARGV - 5) / 5, ARGV[4] == '1', ARGV[5])
  return { status, first, count, tail, slots }
end

if op == 'close' then
  redis.call('HSET', T.m, 'closed', '1')
  -- the stream's last id goes to the highest there is: a plain XADD of a lease fails from now on
  if redis.call('EXISTS', T.s) == 1 then redis.call('XSETID', T.s, '0-18446744073709551615') end
  redis.call('DEL', T.p)
  return 1
end

if op == 'destroy' then
  for _, g in ipairs(groups(T)) do redis.call('DEL', gk(T, g.name), dk(T, g.name), xk(T, g.name)) end
  redis.call('DEL', T.s, T.m, T.l, T.p)
  return 1
end

if op == 'deleteGroup' then
  if not findGroup(T, ARGV[4]) then return 0 end
  dropGroup(ARGV[4])
  return 1
end

if op == 'stats' then
  sweepLeases()
  local M = meta(T)
  sweepTtl(T, M)
  local tail = tailOf(T)
  local first = redis.call('XRANGE', T.s, '-', '+', 'COUNT', 1)
  local head = tail
  if #first > 0 then head = seq(first[1][1]) - 1 end
  local out = {}
  local subscribers = 0
  for _, g in ipairs(groups(T)) do
    retryDead(M, g.name)
    g = findGroup(T, g.name)
    local members = 0
    for _, info in ipairs(redis.call('XINFO', 'CONSUMERS', T.s, g.name)) do
      if string.sub(flat(info).name, 1, 1) ~= '~' then members = members + 1 end
    end
    subscribers = subscribers + members
    local nxt = nextOf(T, g)
    local committed = nxt
    if g.pending > 0 then committed = math.min(committed, floorOf(T, g) - 1) end
    local c = flat(redis.call('HGETALL', gk(T, g.name)))
    out[g.name] = { members = members, next = nxt, committed = committed, pending = g.pending, lag = tail - committed,
      delivered = num(c.delivered), acked = num(c.acked), nacked = num(c.nacked), redelivered = num(c.redelivered),
      deadLettered = num(c.deadLettered), missed = num(c.missed), filtered = 0, expired = num(c.expired), durable = c.durable ~= '0' }
  end
  return cjson.encode({ capacity = num(M.capacity), size = redis.call('XLEN', T.s), head = head, tail = tail, published = tail,
    rejected = num(M.rejected), dropped = num(M.dropped), expired = num(M.expired), agedOut = num(M.agedOut), deadLetterDropped = num(M.deadLetterDropped),
    subscribers = subscribers, closed = M.closed == '1', groups = out })
end

-- the operations of one member: ARGV[4] its group, ARGV[5] its consumer name
local g, c = ARGV[4], ARGV[5]

if op == 'ack' then
  -- gen, delivered (entries the member's plain reads got since its last count), then ids the
  -- member read at that gen and still holds: acked unless the group's gen moved since (then -1:
  -- the member settles them through 'settle', which checks each)
  local delivered = tonumber(ARGV[7])
  if delivered > 0 then redis.call('HINCRBY', gk(T, g), 'delivered', delivered) end
  if (redis.call('HGET', gk(T, g), 'gen') or '0') ~= ARGV[6] then return -1 end
  local n = 0
  for i = 8, #ARGV, 1000 do n = n + redis.call('XACK', T.s, g, unpack(ARGV, i, math.min(i + 999, #ARGV))) end
  if n > 0 then redis.call('HINCRBY', gk(T, g), 'acked', n) end
  return n
end

local G = findGroup(T, g)

if op == 'join' then
  -- from ('earliest', 'latest', 'committed' or an offset), durable ('1'/'0'), lease ms
  if not G then
    local from, start = ARGV[6], '0'
    -- 'latest' by the count of entries added, not '$': a closed topic's last id is past every offset
    if from == 'latest' then start = idOf(tailOf(T)) elseif tonumber(from) then start = idOf(tonumber(from)) end
    redis.call('XGROUP', 'CREATE', T.s, g, start, 'MKSTREAM')
    redis.call('HSET', gk(T, g), 'durable', ARGV[7])
  end
  redis.call('XGROUP', 'CREATECONSUMER', T.s, g, c)
  redis.call('ZADD', T.l, now + tonumber(ARGV[8]), g .. '\n' .. c)
  return 1
end

if not G then return -1 end

if op == 'part' then
  part(g, c)
  return 1
end

if op == 'leave' then
  -- a push face's subscriber left: what it was handed stays settleable, under a name that is no member
  local to = '~left.' .. c
  for _, p in ipairs(redis.call('XPENDING', T.s, g, '-', '+', 100000, c)) do
    redis.call('XCLAIM', T.s, g, to, 0, p[1], 'IDLE', p[3], 'JUSTID')
  end
  redis.call('XGROUP', 'DELCONSUMER', T.s, g, c)
  redis.call('ZREM', T.l, g .. '\n' .. c)
  return 1
end

if op == 'beat' then
  -- lease ms, then (id, count) per held delivery: answers the ones no longer this member's
  redis.call('ZADD', T.l, now + tonumber(ARGV[6]), g .. '\n' .. c)
  local gone = {}
  for i = 7, #ARGV, 2 do
    local p = pel1(T, g, ARGV[i])
    if not p or p[2] ~= c or p[4] ~= tonumber(ARGV[i + 1]) then gone[#gone + 1] = ARGV[i] end
  end
  return gone
end

if op == 'vet' then
  -- ids of entries with an expiry that a plain read handed this consumer: the expired ones are
  -- removed and counted as the fetch does, the live ones (still this consumer's) are answered
  local live = {}
  local gs = nil
  for i = 6, #ARGV do
    local id = ARGV[i]
    local p = pel1(T, g, id)
    local es = redis.call('XRANGE', T.s, id, id)
    if p and p[2] == c and #es > 0 then
      local f = flat(es[1][2])
      if f.e and tonumber(f.e) <= now then
        gs = gs or groups(T)
        removeEntry(T, id, gs, 'expired')
        redis.call('HINCRBY', T.m, 'expired', 1)
      else
        live[#live + 1] = id
      end
    end
  end
  if #live > 0 then redis.call('HINCRBY', gk(T, g), 'delivered', #live) end
  return live
end

local M = meta(T)

if op == 'fetch' then
  -- most, lease ms, '1' if the caller may read new entries itself until its next poll: redeliveries
  -- due (lowest offset first: offset, count, fields), then new entries (id, fields; delivered
  -- once), and 1 if plain reads may follow (no entry of the topic has an expiry, it is not closed)
  local want = tonumber(ARGV[6])
  redis.call('ZADD', T.l, now + tonumber(ARGV[7]), g .. '\n' .. c)
  sweepTtl(T, M)
  retryDead(M, g)
  local ackTimeout, maxDeliveries = num(M.ackTimeout), num(M.maxDeliveries)
  local candidates = redis.call('ZRANGEBYSCORE', dk(T, g), '-inf', now, 'LIMIT', 0, want)
  if ackTimeout > 0 then
    for _, info in ipairs(redis.call('XINFO', 'CONSUMERS', T.s, g)) do
      local f = flat(info)
      if f.name ~= '~ret' and f.name ~= '~dead' and f.pending > 0 then
        for _, p in ipairs(redis.call('XPENDING', T.s, g, 'IDLE', ackTimeout, '-', '+', want, f.name)) do candidates[#candidates + 1] = p[1] end
      end
    end
  end
  table.sort(candidates, function(a, b) return seq(a) < seq(b) end)
  local out = {}
  local redelivered = 0
  for _, id in ipairs(candidates) do
    if #out >= want then break end
    local p = pel1(T, g, id)
    if not p then
      redis.call('ZREM', dk(T, g), id)
    elseif p[2] ~= '~dead' then
      if maxDeliveries > 0 and p[4] >= maxDeliveries then
        deadLetter(M, g, id, 'max-deliveries', nil, p[4])
      else
        local e = redis.call('XCLAIM', T.s, g, c, 0, id)
        redis.call('ZREM', dk(T, g), id)
        if #e > 0 and e[1] then
          out[#out + 1] = { seq(id) - 1, p[4] + 1, e[1][2] }
          if p[4] > 0 then redelivered = redelivered + 1 end
        end
      end
    end
  end
  -- new entries go back as XREADGROUP gives them (id, fields): no work per entry here unless
  -- some entry of the topic has an expiry
  local news = {}
  local plain = 0
  if ARGV[8] == '1' and M.ttlAny ~= '1' and M.closed ~= '1' then plain = 1 end
  if #out < want then
    local r = redis.call('XREADGROUP', 'GROUP', g, c, 'COUNT', want - #out, 'STREAMS', T.s, '>')
    if r then
      news = r[1][2]
      if M.ttlAny == '1' then
        local live = {}
        for _, e in ipairs(news) do
          local f = flat(e[2])
          if f.e and tonumber(f.e) <= now then
            removeEntry(T, e[1], groups(T), 'expired')
            redis.call('HINCRBY', T.m, 'expired', 1)
          else
            live[#live + 1] = e
          end
        end
        news = live
      end
    end
  end
  if #out + #news > 0 then redis.call('HINCRBY', gk(T, g), 'delivered', #out + #news) end
  if redelivered > 0 then redis.call('HINCRBY', gk(T, g), 'redelivered', redelivered) end
  local drained = 0
  if #out + #news == 0 and M.closed == '1' then
    G = findGroup(T, g)
    if G.pending == 0 and nextOf(T, G) >= tailOf(T) then drained = 1 end
  end
  return { drained, out, tailOf(T), news, plain, redis.call('HGET', gk(T, g), 'gen') or '0' }
end

if op == 'settle' then
  -- (kind, id, count, arg) per settlement; a settlement counts only from the entry's owner, at
  -- the delivery count it was handed out with: a stale one changes nothing
  local counts = { acked = 0, nacked = 0, delivered = 0, redelivered = 0 }
  local low, high = nil, nil
  for i = 7, #ARGV, 4 do
    local s = seq(ARGV[i])
    if low == nil or s < low then low = s end
    if high == nil or s > high then high = s end
  end
  if low == nil then return 0 end
  -- what this consumer holds in that range: one XPENDING for the whole batch
  local owned = {}
  for _, p in ipairs(redis.call('XPENDING', T.s, g, idOf(low), idOf(high), (#ARGV - 5) / 4, c)) do owned[p[1]] = p[4] end
  local acks = {}
  local settled = 0
  local maxDeliveries = num(M.maxDeliveries)
  for i = 6, #ARGV, 4 do
    local kind, id, count, arg = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
    if owned[id] == count then
      owned[id] = nil
      settled = settled + 1
      if kind == 'a' then
        acks[#acks + 1] = id
      elseif kind == 'n' then
        counts.nacked = counts.nacked + 1
        if maxDeliveries > 0 and count >= maxDeliveries then
          deadLetter(M, g, id, 'max-deliveries', nil, count)
        else
          redis.call('XCLAIM', T.s, g, '~ret', 0, id, 'JUSTID')
          redis.call('ZADD', dk(T, g), now + tonumber(arg), id)
        end
      elseif kind == 't' then
        local detail = nil
        if arg ~= '' then detail = string.sub(arg, 2) end
        deadLetter(M, g, id, 'terminated', detail, count)
      elseif kind == 'p' then
        redis.call('XCLAIM', T.s, g, c, 0, id, 'JUSTID')
        owned[id] = count
      elseif kind == 'r' then
        if arg == '1' then
          -- never handed out: the delivery does not count
          redis.call('XCLAIM', T.s, g, '~ret', 0, id, 'JUSTID', 'RETRYCOUNT', count - 1)
          counts.delivered = counts.delivered - 1
          if count > 1 then counts.redelivered = counts.redelivered - 1 end
        else
          redis.call('XCLAIM', T.s, g, '~ret', 0, id, 'JUSTID')
        end
        redis.call('ZADD', dk(T, g), now, id)
      end
    end
  end
  for i = 1, #acks, 1000 do
    redis.call('XACK', T.s, g, unpack(acks, i, math.min(i + 999, #acks)))
  end
  counts.acked = #acks
  for k, n in pairs(counts) do
    if n ~= 0 then redis.call('HINCRBY', gk(T, g), k, n) end
  end
  return settled
end

if op == 'commit' or op == 'seek' then
  redis.call('HINCRBY', gk(T, g), 'gen', 1)
  local tail = tailOf(T)
  local offset = math.min(tonumber(ARGV[6]), tail)
  if op == 'commit' then
    if offset > 0 then
      for _, p in ipairs(redis.call('XPENDING', T.s, g, '-', idOf(offset), 100000)) do
        redis.call('XACK', T.s, g, p[1])
        forget(T, g, p[1])
      end
    end
    if G.last < offset then redis.call('XGROUP', 'SETID', T.s, g, idOf(offset)) end
    return 1
  end
  local first = redis.call('XRANGE', T.s, '-', '+', 'COUNT', 1)
  local head = tail
  if #first > 0 then head = seq(first[1][1]) - 1 end
  offset = math.max(offset, head)
  local missed = math.max(0, offset - nextOf(T, G))
  for _, p in ipairs(redis.call('XPENDING', T.s, g, '-', '+', 100000)) do
    redis.call('XACK', T.s, g, p[1])
    if seq(p[1]) <= offset then missed = missed + 1 end
  end
  redis.call('DEL', dk(T, g), xk(T, g))
  if missed > 0 then redis.call('HINCRBY', gk(T, g), 'missed', missed) end
  redis.call('XGROUP', 'SETID', T.s, g, idOf(offset))
  return 1
end

return redis.error_reply('ringbus: unknown operation ' .. op)
end
`;

const BODY = LUA_CORE + LUA_OPS;

/**
 * The name of the library and of its one function: versioned by the code, so that processes
 * running different versions of the engine on one server each call their own.
 */
export const FUNCTION = `ringbus_${createHash('sha1').update(BODY).digest('hex').slice(0, 16)}`;

/** The Redis Functions library (`FUNCTION LOAD`), called as `FCALL <FUNCTION> 1 <stream key> op prefix topic …`. */
export const LIBRARY = `#!lua name=${FUNCTION}\n${BODY}\nredis.register_function('${FUNCTION}', call)\n`;
