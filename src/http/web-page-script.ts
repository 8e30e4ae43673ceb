/**
 * The web view's script (issue 14), inlined into the page by web-page.ts. It polls
 * `clusters/<c>/overview` once a second and paints what the coordinator derived (cluster-overview.ts):
 * it computes no status of its own, so the page and `baton status` cannot disagree. Plain
 * browser JavaScript kept as a string (the build has no bundler and the server's TypeScript has
 * no DOM types); test/unit/http/web-page.test.ts checks that it parses and the integration test
 * runs it in Debian's Chromium.
 *
 * Rules it keeps: every string from the coordinator enters the DOM as a text node or an
 * attribute value, never as markup; it only GETs, from the origin that served it; no template
 * literals (this file is itself one).
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var POLL_MS = 1000;
  // A poll still unanswered by then has failed: a hung coordinator shows as unreachable.
  var POLL_TIMEOUT_MS = 2500;
  // Data older than this (two missed polls and then some) is called stale.
  var STALE_MS = 3500;
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var view = { clusters: [], cluster: null, data: null, receivedAt: 0, failure: null, failingSince: 0 };
  var painted = {};

  function byId(id) {
    return document.getElementById(id);
  }

  function setAttributes(node, attributes) {
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
    });
  }

  // Strings become text nodes: whatever etcd holds is never parsed as markup.
  function append(node, children) {
    (Array.isArray(children) ? children : [children]).forEach(function (child) {
      if (child === undefined || child === null || child === false) return;
      node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    });
    return node;
  }

  function html(tag, attributes, children) {
    var node = document.createElement(tag);
    setAttributes(node, attributes);
    return append(node, children);
  }

  function svg(tag, attributes, children) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttributes(node, attributes);
    return append(node, children);
  }

  function replace(node, children) {
    node.replaceChildren();
    append(node, children);
  }

  // Repaint a part only when what it shows changed: a tooltip or a text selection survives.
  function paint(part, key, draw) {
    if (painted[part] === key) return;
    painted[part] = key;
    draw();
  }

  function seconds(ms) {
    return ms < 10000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms / 1000) + ' s';
  }

  function duration(ms) {
    var total = Math.round(ms / 1000);
    if (total < 120) return total + ' s';
    var minutes = Math.floor(total / 60);
    if (minutes < 120) return minutes + ' min' + (total % 60 ? ' ' + (total % 60) + ' s' : '');
    return Math.floor(minutes / 60) + ' h' + (minutes % 60 ? ' ' + (minutes % 60) + ' min' : '');
  }

  // The box has room for about this many characters; the tooltip has the whole text.
  function fit(text, room) {
    return text.length <= room ? text : text.slice(0, room - 1) + '…';
  }

  function clockTime(ms, withSeconds) {
    var options = { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    if (withSeconds) options.second = '2-digit';
    return new Date(ms).toLocaleTimeString('en-GB', options);
  }

  function slug(text) {
    return String(text).replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  }

  // What went wrong with a poll, and whether the coordinator answered at all.
  function describeFailure(error) {
    if (error && error.httpStatus) return { answered: true, text: error.message };
    if (error && error.name === 'TimeoutError')
      return { answered: false, text: 'no answer within ' + seconds(POLL_TIMEOUT_MS) };
    if (error && error.name === 'TypeError') return { answered: false, text: 'cannot reach the coordinator' };
    return { answered: false, text: (error && error.message) || String(error) };
  }

  function getJson(path) {
    return fetch(path, { cache: 'no-store', signal: AbortSignal.timeout(POLL_TIMEOUT_MS) }).then(function (res) {
      return res
        .json()
        .catch(function () {
          return {};
        })
        .then(function (body) {
          if (res.ok) return body;
          var error = new Error('HTTP ' + res.status + (body && body.error ? ': ' + body.error : ''));
          error.httpStatus = res.status;
          throw error;
        });
    });
  }

  // ---- which cluster ----------------------------------------------------------------------

  function clusterFromHash() {
    var match = /^#cluster=(.+)$/.exec(location.hash);
    if (!match) return null;
    try {
      return decodeURIComponent(match[1]);
    } catch (e) {
      return null;
    }
  }

  function choose(cluster) {
    if (cluster === view.cluster) return;
    view.cluster = cluster;
    view.data = null;
    painted = {};
    byId('cluster-select').value = cluster;
  }

  function loadClusters() {
    return getJson('clusters').then(function (body) {
      view.clusters = body.clusters || [];
      var select = byId('cluster-select');
      replace(
        select,
        view.clusters.map(function (name) {
          return html('option', { value: name }, name);
        }),
      );
      select.hidden = view.clusters.length < 2;
      var wanted = clusterFromHash();
      choose(view.clusters.indexOf(wanted) >= 0 ? wanted : view.clusters[0] || null);
    });
  }

  // ---- polling and freshness ----------------------------------------------------------------

  function poll() {
    var started = Date.now();
    var ready = view.cluster === null ? loadClusters() : Promise.resolve();
    ready
      .then(function () {
        if (view.cluster === null) throw new Error('this coordinator manages no cluster');
        var asked = view.cluster;
        return getJson('clusters/' + encodeURIComponent(asked) + '/overview?tz=' + encodeURIComponent(ZONE)).then(
          function (data) {
            if (asked !== view.cluster) return;
            view.data = data;
            view.receivedAt = Date.now();
            view.failure = null;
            render(data);
          },
        );
      })
      .catch(function (error) {
        if (view.failure === null) view.failingSince = Date.now();
        view.failure = describeFailure(error);
      })
      .then(function () {
        showFreshness();
        setTimeout(poll, Math.max(0, POLL_MS - (Date.now() - started)));
      });
  }

  function showFreshness() {
    var now = Date.now();
    var data = view.data;
    var problem = null;
    var freshness = 'live';
    var age = data ? now - view.receivedAt + data.stateAgeMs : Infinity;
    if (view.failure !== null) {
      freshness = view.failure.answered ? 'failing' : 'unreachable';
      problem =
        (view.failure.answered ? 'The coordinator answered ' : 'Coordinator unreachable: ') + view.failure.text +
        ' (since ' + clockTime(view.failingSince, true) + '). ' +
        (data ? 'Showing its last good answer, ' + seconds(now - view.receivedAt) + ' old.' : 'Nothing to show yet.');
    } else if (!data) {
      freshness = 'loading';
    } else if (age > STALE_MS) {
      freshness = 'stale';
      problem =
        'Data stale: coordinator ' + data.answeredBy + ' answers, but its last read of the cluster state is ' +
        seconds(age) + ' old' + (data.readError ? ': ' + data.readError + '.' : ' (can it reach etcd?).');
    }
    document.documentElement.setAttribute('data-freshness', freshness);
    var banner = byId('banner');
    banner.hidden = problem === null;
    banner.textContent = problem || '';
    byId('freshness').textContent = data
      ? 'answered by coordinator ' + data.answeredBy + ' · state read ' + seconds(age) + ' ago'
      : freshness === 'loading'
        ? 'connecting…'
        : 'no data';
  }

  // ---- the parts of the page ----------------------------------------------------------------

  function render(data) {
    document.title = 'baton · ' + data.cluster + ' · writer ' + (data.writer ? data.writer.node : 'none');
    byId('cluster-name').textContent = data.cluster;
    renderFacts(data);
    paint('diagram', JSON.stringify([data.diagram, data.servers, data.writer && data.writer.epoch]), function () {
      renderDiagram(data);
    });
    paint('servers', JSON.stringify(data.servers), function () {
      renderServers(data);
    });
    // The strip moves with the clock: redrawn every 10 s, or at once when an entry arrives.
    paint('timeline', JSON.stringify(data.timeline.markers) + Math.floor(data.generatedAt / 10000), function () {
      renderTimeline(data);
    });
    paint('history', JSON.stringify(data.history), function () {
      renderHistory(data);
    });
  }

  function fact(term, value, attributes) {
    return [html('dt', null, term), html('dd', attributes || null, value)];
  }

  function renderFacts(data) {
    var w = data.writer;
    var writer = w
      ? [
          html('strong', null, w.node),
          ' · epoch ' + w.epoch,
          w.sinceText ? ' · since ' + w.sinceText : '',
          w.reason ? ' (' + w.reason + ')' : '',
        ]
      : 'none recorded';
    var leader = data.leader;
    var leaderText = !leader
      ? 'none'
      : leader.leaseLeftMs !== undefined
        ? [html('strong', null, leader.coordinator), ' (this coordinator) · lease ' + seconds(leader.leaseLeftMs) + ' left']
        : leader.thisCoordinator
          ? [html('strong', null, leader.coordinator), ' (this coordinator, as last read; its loop does not lead now)']
          : [html('strong', null, leader.coordinator), ' · its page shows its lease time'];
    var session = data.session.valid
      ? 'session held, ' + seconds(data.session.leaseLeftMs) + ' provable'
      : 'NO provable etcd session';
    var pin = data.pin
      ? (data.pin.node || 'current writer') + ' by ' + data.pin.by + ' (' + data.pin.reason + ')' +
        (data.pin.message ? ': ' + data.pin.message : '')
      : 'none';
    var flap = data.antiFlap;
    var op = data.operation;
    replace(
      byId('facts'),
      [].concat(
        fact('writer', writer, { id: 'writer', 'data-node': w ? w.node : '', 'data-epoch': w ? w.epoch : '' }),
        fact('leader', leaderText, { id: 'leader' }),
        fact('answering', [html('strong', null, data.answeredBy), ' · ' + session]),
        fact('policy', data.policy),
        fact('pin', pin, { class: data.pin ? 'attention' : null }),
        fact('cooldown', flap.cooldownLeftMs > 0 ? duration(flap.cooldownLeftMs) + ' left' : 'none'),
        fact(
          'failovers',
          flap.failoversInWindow + ' of ' + flap.budget.count + ' automatic within ' + duration(flap.budget.windowMs),
        ),
        flap.lastSkip ? fact('refusing', flap.lastSkip.reason + ' since ' + clockTime(flap.lastSkip.since, true)) : [],
        op
          ? fact('operation', op.kind + ' ' + (op.from || '(none)') + ' → ' + op.to + ': ' + op.step + ' (epoch ' + op.epoch + ')', {
              class: 'attention',
            })
          : [],
      ),
    );
  }

  function cell(server, columns, name) {
    return server.cells[columns.indexOf(name)];
  }

  function arrowHead(id) {
    return svg('marker', { id: id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, [
      svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: id }),
    ]);
  }

  function renderDiagram(data) {
    var d = data.diagram;
    var byName = {};
    data.servers.forEach(function (server) {
      byName[server.name] = server;
    });
    var columns = data.serverColumns;
    var parts = [svg('defs', null, [arrowHead('head-running'), arrowHead('head-stopped')])];
    d.colos.forEach(function (colo) {
      var b = colo.box;
      parts.push(
        svg('g', { class: 'colo', 'data-colo': colo.name }, [
          svg('rect', { x: b.x, y: b.y, width: b.width, height: b.height, rx: 10 }),
          svg('text', { x: b.x + 12, y: b.y + 18, class: 'colo-name' }, 'colo ' + colo.name),
        ]),
      );
    });
    d.arrows.forEach(function (a) {
      parts.push(
        svg('line', {
          x1: a.x1, y1: a.y1, x2: a.x2, y2: a.y2,
          class: 'replication ' + (a.running ? 'running' : 'stopped'),
          'data-from': a.from,
          'data-to': a.to,
          'marker-end': a.running ? 'url(#head-running)' : 'url(#head-stopped)',
        }, svg('title', null, a.from + ' → ' + a.to + (a.running ? ' replicating' : ' stopped'))),
      );
    });
    d.servers.forEach(function (placed) {
      var server = byName[placed.name];
      if (!server) return;
      var b = placed.box;
      var writer = server.role === 'writer';
      var lag = cell(server, columns, 'LAG');
      var upBy = cell(server, columns, 'UP FOR');
      var tip = [server.name + ': ' + server.role + ', ' + server.state]
        .concat(server.notes)
        .concat(columns.map(function (c, i) { return c + ' ' + server.cells[i]; }));
      parts.push(
        svg('g', {
          class: 'server state-' + slug(server.state) + (writer ? ' writer' : ''),
          'data-node': server.name,
          'data-role': server.role,
          'data-state': server.state,
        }, [
          svg('title', null, tip.join('\n')),
          svg('rect', { x: b.x, y: b.y, width: b.width, height: b.height, rx: 6, class: 'server-box' }),
          svg('text', { x: b.x + 10, y: b.y + 20, class: 'server-name' }, server.name),
          writer
            ? svg('g', { class: 'writer-badge' }, [
                svg('rect', { x: b.x + b.width - 86, y: b.y + 7, width: 78, height: 18, rx: 9 }),
                svg('text', { x: b.x + b.width - 47, y: b.y + 20, 'text-anchor': 'middle' }, 'WRITER e' + (data.writer ? data.writer.epoch : '?')),
              ])
            : svg('text', { x: b.x + b.width - 10, y: b.y + 20, 'text-anchor': 'end', class: 'server-role' }, server.role),
          svg('text', { x: b.x + 10, y: b.y + 39, class: 'server-state' },
            fit(server.state + (lag !== '-' ? ' · lag ' + lag : ''), 36)),
          svg('text', { x: b.x + 10, y: b.y + 56, class: 'server-detail' },
            fit('read_only ' + cell(server, columns, 'READ_ONLY') + ' · seen up by ' + upBy, 36)),
          server.notes.length > 0
            ? svg('text', { x: b.x + 10, y: b.y + 73, class: 'server-note' }, fit(server.notes[0], 33))
            : null,
        ]),
      );
    });
    replace(
      byId('topology'),
      svg('svg', {
        viewBox: '0 0 ' + d.width + ' ' + d.height,
        width: d.width,
        height: d.height,
        role: 'img',
        'aria-label': 'topology of cluster ' + data.cluster,
      }, parts),
    );
  }

  function table(target, columns, rows, rowAttributes) {
    replace(target, [
      html('thead', null, html('tr', null, columns.map(function (c) { return html('th', { scope: 'col' }, c); }))),
      html('tbody', null, rows.map(function (row, i) {
        return html('tr', rowAttributes(i), row.map(function (c) { return html('td', null, c); }));
      })),
    ]);
  }

  function renderServers(data) {
    table(byId('servers'), data.serverColumns, data.servers.map(function (s) { return s.cells; }), function (i) {
      var server = data.servers[i];
      return { class: 'state-' + slug(server.state) + (server.role === 'writer' ? ' writer' : ''), 'data-node': server.name };
    });
  }

  var MARKER_SHAPES = {
    'writer-change': function (x) { return svg('path', { d: 'M ' + x + ' 30 l 7 12 l -7 12 l -7 -12 z' }); },
    fence: function (x) { return svg('rect', { x: x - 4, y: 30, width: 8, height: 24 }); },
    skip: function (x) { return svg('path', { d: 'M ' + x + ' 32 l 8 20 l -16 0 z' }); },
    blip: function (x) { return svg('circle', { cx: x, cy: 42, r: 6 }); },
    other: function (x) { return svg('rect', { x: x - 1, y: 36, width: 2, height: 12 }); },
  };

  function renderTimeline(data) {
    var t = data.timeline;
    var width = 1000;
    var axisY = 58;
    var x = function (at) { return 12 + ((width - 24) * (at - t.from)) / (t.to - t.from); };
    var parts = [svg('line', { x1: 12, x2: width - 12, y1: axisY, y2: axisY, class: 'axis' })];
    var tenMinutes = 600000;
    for (var tick = Math.ceil(t.from / tenMinutes) * tenMinutes; tick <= t.to; tick += tenMinutes) {
      parts.push(svg('line', { x1: x(tick), x2: x(tick), y1: axisY, y2: axisY + 5, class: 'axis' }));
      parts.push(svg('text', { x: x(tick), y: axisY + 18, 'text-anchor': 'middle', class: 'tick' }, clockTime(tick, false)));
    }
    // Labels in two rows, right of their marker or, near the right edge, left of it; one that
    // would overlap both rows is left to the tooltip.
    var rowEnds = [-Infinity, -Infinity];
    t.markers.forEach(function (m) {
      var at = x(m.at);
      var children = [svg('title', null, m.line.join('  ')), MARKER_SHAPES[m.kind](at)];
      if (m.kind !== 'other') {
        var labelWidth = m.label.length * 6.6;
        var leftOfMarker = at + 5 + labelWidth > width;
        var start = leftOfMarker ? at - 5 - labelWidth : at + 5;
        var row = rowEnds[0] < start ? 0 : rowEnds[1] < start ? 1 : -1;
        if (row >= 0) {
          children.push(
            svg('text', {
              x: leftOfMarker ? at - 5 : at + 5,
              y: 11 + row * 13,
              'text-anchor': leftOfMarker ? 'end' : 'start',
              class: 'marker-label',
            }, m.label),
          );
          rowEnds[row] = start + labelWidth + 4;
        }
      }
      parts.push(svg('g', { class: 'marker kind-' + m.kind, 'data-kind': m.kind, 'data-at': m.at }, children));
    });
    if (t.markers.length === 0)
      parts.push(svg('text', { x: width / 2, y: 40, 'text-anchor': 'middle', class: 'tick' }, 'nothing recorded in the last hour'));
    replace(
      byId('timeline'),
      svg('svg', { viewBox: '0 0 ' + width + ' 82', role: 'img', 'aria-label': 'history of the last hour' }, parts),
    );
  }

  function renderHistory(data) {
    table(byId('history'), data.historyColumns, data.history.map(function (h) { return h.cells; }), function (i) {
      return { class: 'kind-' + data.history[i].kind };
    });
    byId('history-note').textContent =
      data.history.length === 0 ? 'no entries' : 'newest first, the last ' + data.history.length + ' entries';
  }

  // ---- start --------------------------------------------------------------------------------

  byId('cluster-select').addEventListener('change', function (event) {
    location.hash = 'cluster=' + encodeURIComponent(event.target.value);
  });
  window.addEventListener('hashchange', function () {
    var wanted = clusterFromHash();
    if (wanted !== null && view.clusters.indexOf(wanted) >= 0) choose(wanted);
  });
  setInterval(showFreshness, 250);
  poll();
})();
`;
