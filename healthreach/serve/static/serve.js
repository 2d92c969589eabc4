/* healthreach serve: the what-if page's script.
 *
 * hrServe.start(map, boot) is called by the page once the hearing map exists. The page talks to the JSON API
 * under api/ (one session per tab, named in the X-Session header); every answer carries the figures baseline ->
 * now, the cells whose minutes to primary care differ from the baseline (painted on one canvas) and the
 * facilities that differ (markers moved, ringed or crossed out). While a marker is dragged only the latest
 * position is sent: a new preview leaves when the previous answer is back.
 */
(function () {
  'use strict';
  var hr = window.hrServe = {timings: [], busy: 0};
  var S = {session: null, token: null, boot: null, map: null, markers: {}, changed: {}, dragging: null,
           addMode: false, cells: null, state: null, counter: 1};

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; } else if (k === 'on') {
        Object.keys(attrs.on).forEach(function (ev) { node.addEventListener(ev, attrs.on[ev]); });
      } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }
  function tr(key, values) {
    var s = S.boot.text[key];
    Object.keys(values || {}).forEach(function (k) { s = s.split('{' + k + '}').join(values[k]); });
    return s;
  }
  function people(v) { return v === null || v === undefined ? '' : Math.round(v).toLocaleString('en-US'); }

  // --- the API -------------------------------------------------------------------------------------------------
  function call(method, path, body, raw) {
    var headers = {};
    if (S.session) { headers['X-Session'] = S.session; }
    if (S.token) { headers['X-Token'] = S.token; }
    if (body !== undefined && !raw) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(body); }
    hr.busy += 1;
    return fetch(path, {method: method, headers: headers, body: body}).then(function (res) {
      var type = res.headers.get('Content-Type') || '';
      var read = type.indexOf('application/json') === 0 ? res.json() : res.text();
      return read.then(function (data) {
        hr.busy -= 1;
        if (!res.ok) { throw new Error(data && data.error ? data.error : String(data)); }
        return data;
      });
    }, function (err) { hr.busy -= 1; throw err; });
  }
  function status(text, error) {
    var box = document.getElementById('hr-status');
    box.textContent = text;
    box.className = error ? 'hr-error' : '';
  }

  // --- changed cells on one canvas --------------------------------------------------------------------------------
  var CellLayer = L.Layer.extend({
    onAdd: function (map) {
      this._canvas = L.DomUtil.create('canvas', 'hr-cells leaflet-zoom-hide');
      map.getPanes().overlayPane.appendChild(this._canvas);
      map.on('moveend zoomend resize viewreset', this._reset, this);
      this._reset();
    },
    onRemove: function (map) {
      L.DomUtil.remove(this._canvas);
      map.off('moveend zoomend resize viewreset', this._reset, this);
    },
    setData: function (cells) { this._cells = cells; this._draw(); },
    _reset: function () {
      var map = this._map, size = map.getSize();
      L.DomUtil.setPosition(this._canvas, map.containerPointToLayerPoint([0, 0]));
      this._canvas.width = size.x; this._canvas.height = size.y;
      this._draw();
    },
    _draw: function () {
      var map = this._map, cells = this._cells, ctx = this._canvas.getContext('2d');
      ctx.clearRect(0, 0, this._canvas.width, this._canvas.height);
      if (!map || !cells || !cells.lon.length) { return; }
      var center = map.getCenter(), zoom = map.getZoom();
      var metresPerPixel = 40075016.686 * Math.cos(center.lat * Math.PI / 180) / (256 * Math.pow(2, zoom));
      var side = Math.max(1.5, cells.cell_m / metresPerPixel + 0.6), half = side / 2;
      var colours = S.boot.bands.colours, kinds = [null, S.boot.gained_colour, S.boot.lost_colour];
      var size = map.getSize();
      ctx.globalAlpha = 0.8;
      for (var i = 0; i < cells.lon.length; i++) {
        var p = map.latLngToContainerPoint([cells.lat[i] / 1e5, cells.lon[i] / 1e5]);
        if (p.x < -side || p.y < -side || p.x > size.x + side || p.y > size.y + side) { continue; }
        ctx.fillStyle = kinds[cells.kind[i]] || colours[Math.min(cells.band[i], colours.length - 1)];
        ctx.fillRect(p.x - half, p.y - half, side, side);
      }
    }
  });

  // --- facilities ------------------------------------------------------------------------------------------------
  function icon(f) {
    var look = S.boot.icons[f.type] || S.boot.icons[Object.keys(S.boot.icons)[0]];
    var size = look ? look.size : 12, cls = 'hr-icon hr-facility';
    if (f.closed) { cls += ' hr-closed'; } else if (S.changed[f.id]) { cls += ' hr-changed'; }
    return L.divIcon({html: look ? look.svg : '', className: cls, iconSize: [size, size],
                      iconAnchor: [size / 2, size / 2]});
  }
  function baseline(id) {
    return S.boot.facilities.find(function (f) { return f.id === id; });
  }
  function place(f) {
    var m = S.markers[f.id];
    if (!m) {
      m = L.marker([f.lat, f.lon], {draggable: !f.closed, autoPan: true, title: f.name, riseOnHover: true});
      m.on('dragstart', function () { S.dragging = m.facility.id; m.closePopup(); });
      m.on('drag', function () { drag(m); });
      m.on('dragend', function () { drop(m); });
      m.bindPopup(function () { return popup(m.facility); }, {className: 'hr-popup', maxWidth: 320});
      m.addTo(S.map);
      S.markers[f.id] = m;
    }
    m.facility = f;
    if (S.dragging === f.id) { return; }  // a new icon element would end the drag: redrawn once dropped
    m.setLatLng([f.lat, f.lon]);
    m.setIcon(icon(f));
    m.getElement().setAttribute('data-id', f.id);
    if (m.dragging) { if (f.closed) { m.dragging.disable(); } else { m.dragging.enable(); } }
  }
  function syncFacilities(rows) {
    var now = {};
    rows.forEach(function (f) { now[f.id] = f; });
    Object.keys(S.changed).forEach(function (id) {
      if (now[id]) { return; }
      var f = baseline(id);
      if (f) { delete S.changed[id]; place(f); } else { S.map.removeLayer(S.markers[id]); delete S.markers[id]; }
      delete S.changed[id];
    });
    rows.forEach(function (f) { S.changed[f.id] = true; place(f); });
  }

  function field(label, input) {
    return el('label', {}, [el('span', {text: label}), input]);
  }
  function typeSelect(current) {
    var select = el('select', {name: 'type'});
    S.boot.types.forEach(function (t) {
      var o = el('option', {value: t.id, text: t.name});
      if (t.id === current) { o.selected = true; }
      select.appendChild(o);
    });
    return select;
  }
  function popup(f) {
    var rows = [[tr('name'), f.name], [tr('type'), (S.boot.types.find(function (t) { return t.id === f.type; })
      || {name: f.type}).name], [tr('id'), f.id], [tr('beds'), people(f.beds)],
      [tr('ambulances'), people(f.ambulances)], [tr('emergency'), f.emergency ? '✓' : '—']];
    var table = el('table', {}, rows.map(function (r) { return el('tr', {}, [el('th', {text: r[0]}),
                                                                               el('td', {text: r[1]})]); }));
    if (f.closed) { return el('div', {}, [table, el('p', {'class': 'hr-note', text: tr('closed')})]); }
    var type = typeSelect(f.type), emergency = el('input', {type: 'checkbox', name: 'emergency'});
    emergency.checked = !!f.emergency;
    var beds = el('input', {type: 'number', min: '0', name: 'beds', value: f.beds === null ? 0 : f.beds});
    var ambulances = el('input', {type: 'number', min: '0', name: 'ambulances',
                                  value: f.ambulances === null ? 0 : f.ambulances});
    return el('div', {'class': 'hr-edit'}, [
      table, el('p', {'class': 'hr-note', text: tr('drag_hint')}),
      el('div', {'class': 'hr-row'}, [field(tr('type'), type), field(tr('emergency'), emergency),
        el('button', {'class': 'hr-upgrade', text: tr('upgrade'), on: {click: function () {
          change({upgrade: f.id, type: type.value, emergency: emergency.checked}); }}})]),
      el('div', {'class': 'hr-row'}, [field(tr('beds'), beds), field(tr('ambulances'), ambulances),
        el('button', {'class': 'hr-expand', text: tr('expand'), on: {click: function () {
          change({expand: f.id, beds: parseInt(beds.value, 10) || 0,
                  ambulances: parseInt(ambulances.value, 10) || 0}); }}})]),
      el('button', {'class': 'hr-close', text: tr('close'), on: {click: function () { change({close: f.id}); }}})
    ]);
  }
  function freeId() {
    var id;
    do { id = 'NEW' + (S.counter++); } while (S.markers[id]);
    return id;
  }
  function addForm(latlng) {
    var id = el('input', {name: 'id', value: freeId()});
    var name = el('input', {name: 'name', value: tr('new_name')});
    var type = typeSelect(S.boot.types.some(function (t) { return t.id === 'township_hc'; }) ? 'township_hc' : '');
    var beds = el('input', {type: 'number', min: '0', name: 'beds', value: '0'});
    var ambulances = el('input', {type: 'number', min: '0', name: 'ambulances', value: '0'});
    var emergency = el('input', {type: 'checkbox', name: 'emergency'});
    var pop = L.popup({className: 'hr-popup'}).setLatLng(latlng);
    var form = el('div', {'class': 'hr-edit hr-add-form'}, [
      el('h4', {text: tr('add_title')}), field(tr('id'), id), field(tr('name'), name), field(tr('type'), type),
      field(tr('beds'), beds), field(tr('ambulances'), ambulances), field(tr('emergency'), emergency),
      el('button', {'class': 'hr-add', text: tr('add'), on: {click: function () {
        S.map.closePopup(pop);
        change({add: id.value, name: name.value, type: type.value,
                at: {lon: +latlng.lng.toFixed(6), lat: +latlng.lat.toFixed(6)},
                beds: parseInt(beds.value, 10) || 0, ambulances: parseInt(ambulances.value, 10) || 0,
                emergency: emergency.checked});
      }}}),
      el('button', {text: tr('cancel'), on: {click: function () { S.map.closePopup(pop); }}})
    ]);
    pop.setContent(form).openOn(S.map);
  }

  // --- changes, drags, undo ------------------------------------------------------------------------------------
  function timed(what, started, promise) {
    return promise.then(function (data) {
      show(data);
      return new Promise(function (resolve) {
        requestAnimationFrame(function () {
          hr.timings.push({what: what, ms: performance.now() - started, server_ms: data.ms});
          resolve(data);
        });
      });
    }, function (err) {
      show(S.state);  // markers back where the current state has them
      status(err.message, true);
      throw err;
    });
  }
  function change(body) {
    S.map.closePopup();
    status(tr('working'));
    return timed('change', performance.now(), call('POST', 'api/changes', body)).catch(function () {});
  }
  hr.change = function (body) { return timed('change', performance.now(), call('POST', 'api/changes', body)); };
  function drag(m) {
    S.pending = m.getLatLng();
    if (!S.inflight) { preview(m); }
  }
  function preview(m) {
    var at = S.pending;
    S.pending = null;
    S.inflight = timed('drag', performance.now(), call('POST', 'api/changes?preview=1', {
      relocate: m.facility.id, to: {lon: +at.lng.toFixed(6), lat: +at.lat.toFixed(6)}}))
      .catch(function () {}).then(function () {
        S.inflight = null;
        if (S.pending && S.dragging) { preview(m); }
      });
  }
  function drop(m) {
    var at = m.getLatLng(), id = m.facility.id;
    S.pending = null;
    var started = performance.now();
    Promise.resolve(S.inflight).then(function () {
      S.dragging = null;
      return timed('drop', started, call('POST', 'api/changes', {relocate: id,
        to: {lon: +at.lng.toFixed(6), lat: +at.lat.toFixed(6)}}));
    }).catch(function () { S.dragging = null; });
  }
  function step(what) {
    return timed(what, performance.now(), call('POST', 'api/' + what)).catch(function () {});
  }

  // --- the panel -------------------------------------------------------------------------------------------------
  function value(row, v) {
    if (v === null || v === undefined) { return '—'; }
    return row.unit === 'share of people' ? (100 * v).toFixed(1) + '%' : v.toFixed(2);
  }
  function changeText(row) {
    if (row.change === null || row.change === undefined) { return ''; }
    if (row.unit === 'share of people') { return (row.change >= 0 ? '+' : '') + (100 * row.change).toFixed(1) + ' pp'; }
    return (row.change >= 0 ? '+' : '') + row.change.toFixed(2);
  }
  function mark(v) { return v === true ? '✓' : v === false ? '✗' : '–'; }
  function show(data) {
    if (!data) { return; }
    S.state = data;
    var body = document.getElementById('hr-figures');
    body.textContent = '';
    data.figures.forEach(function (row) {
      var line = el('tr', {'data-standard': row.standard, 'data-now': row.now === null ? '' : String(row.now),
                           'data-baseline': row.baseline === null ? '' : String(row.baseline)}, [
        el('td', {'class': 'hr-std', text: row.title, title: row.standard}),
        el('td', {'class': 'hr-num', text: value(row, row.baseline)}),
        el('td', {'class': 'hr-num hr-now', text: value(row, row.now)}),
        el('td', {'class': 'hr-num ' + (row.change > 1e-9 ? 'hr-up' : row.change < -1e-9 ? 'hr-down' : ''),
                  text: changeText(row)}),
        el('td', {'class': 'hr-num hr-gained', text: people(row.newly_covered_people)}),
        el('td', {'class': 'hr-num hr-lost', text: people(row.lose_coverage_people)}),
        el('td', {'class': 'hr-pass', text: row.baseline_pass === null && row.now_pass === null ? ''
                  : mark(row.baseline_pass) + '→' + mark(row.now_pass)})]);
      if (row.now_pass === false) { line.className = 'hr-fail'; }
      body.appendChild(line);
    });
    document.getElementById('hr-summary').textContent = S.boot.circle_min === null ? '' :
      [tr('circle_moves', {minutes: S.boot.circle_min, gained: people(data.newly_covered_people),
                            lost: people(data.lose_coverage_people)})].concat(
        data.population_groups.map(function (g) {
          return tr('group_moves', {group: g.name, gained: people(g.newly_covered_people),
                                            lost: people(g.lose_coverage_people)});
        })).join('\n');
    document.getElementById('hr-count').textContent = tr('changes', {n: data.changes.length});
    document.getElementById('hr-undo').disabled = !data.can_undo;
    document.getElementById('hr-redo').disabled = !data.can_redo;
    syncFacilities(data.facilities);
    S.cells.setData(data.cells);
    if (data.ms !== undefined) { status(tr('ms', {ms: Math.round(data.ms)})); }
  }
  function download(path, name) {
    var url = path + '?session=' + encodeURIComponent(S.session) + (S.token ? '&token=' + encodeURIComponent(S.token) : '');
    return fetch(url).then(function (res) {
      if (!res.ok) { return res.json().then(function (d) { throw new Error(d.error); }); }
      return res.blob();
    }).then(function (blob) {
      var a = el('a', {href: URL.createObjectURL(blob), download: name});
      document.body.appendChild(a); a.click(); a.remove();
    }).catch(function (err) { status(err.message, true); });
  }
  function panel() {
    var file = el('input', {type: 'file', accept: '.yaml,.yml', id: 'hr-file', style: 'display:none', on: {
      change: function () {
        var f = file.files[0];
        if (!f) { return; }
        f.text().then(function (text) {
          file.value = '';
          return timed('load', performance.now(), call('POST', 'api/scenario', text, true));
        }).catch(function () {});
      }}});
    var head = el('tr', {}, ['standard', 'baseline', 'now', 'change', 'gained', 'lost', 'pass'].map(function (k) {
      return el('th', {text: tr(k)}); }));
    var box = el('div', {id: 'hr-panel'}, [
      el('h3', {text: tr('panel_title')}),
      el('p', {id: 'hr-summary'}),
      el('div', {'class': 'hr-buttons'}, [
        el('button', {id: 'hr-add-mode', text: '＋ ' + tr('add_mode'), on: {click: function () { addMode(!S.addMode); }}}),
        el('button', {id: 'hr-undo', text: '↶ ' + tr('undo'), on: {click: function () { step('undo'); }}}),
        el('button', {id: 'hr-redo', text: '↷ ' + tr('redo'), on: {click: function () { step('redo'); }}}),
        el('button', {id: 'hr-save', text: tr('save'), on: {click: function () {
          download('api/scenario', 'scenario.yaml'); }}}),
        el('button', {id: 'hr-load', text: tr('load'), on: {click: function () { file.click(); }}}), file,
        el('button', {id: 'hr-export', text: tr('export'), on: {click: function () {
          download('api/export', 'map.html'); }}})]),
      el('p', {id: 'hr-count'}),
      el('table', {id: 'hr-table'}, [el('thead', {}, [head]), el('tbody', {id: 'hr-figures'})]),
      el('p', {id: 'hr-status'})]);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    document.body.appendChild(box);
  }
  function addMode(on) {
    S.addMode = on;
    S.map.getContainer().classList.toggle('hr-adding', on);
    document.getElementById('hr-add-mode').classList.toggle('hr-on', on);
  }

  // --- suggestions (site suggestion, when the server has it) ------------------------------------------------------
  function suggestions() {
    if (!S.boot.suggestions) { return; }
    call('GET', 'api/suggestions').then(function (data) {
      if (!data.available) { return; }
      var layer = L.layerGroup().addTo(S.map);
      data.sites.forEach(function (site, i) {
        var m = L.circleMarker([site.lat, site.lon], {radius: 9, color: '#6a3d9a', weight: 2, fillOpacity: 0.3,
                                                      className: 'hr-suggestion'}).addTo(layer);
        m.bindTooltip(String(i + 1) + (site.label ? ' ' + site.label : ''), {permanent: true, direction: 'center',
                                                                             className: 'hr-rank'});
        m.on('click', function (ev) { L.DomEvent.stopPropagation(ev); addForm(L.latLng(site.lat, site.lon)); });
      });
    }).catch(function (err) { status(err.message, true); });
  }

  hr.start = function (map, boot) {
    S.map = map; S.boot = boot;
    hr.map = map;
    S.token = new URLSearchParams(window.location.search).get('token');
    S.cells = new CellLayer().addTo(map);
    panel();
    // the study area framed beside the panel (right) and the legend (left), not under them
    map.fitBounds(boot.bounds, {paddingTopLeft: [220, 100],
                                paddingBottomRight: [document.getElementById('hr-panel').offsetWidth + 30, 10]});
    boot.facilities.forEach(place);
    map.on('click', function (ev) {
      if (!S.addMode) { return; }
      addMode(false);
      addForm(ev.latlng);
    });
    hr.ready = call('POST', 'api/sessions').then(function (data) {
      S.session = data.session;
      hr.session = data.session;
      return call('GET', 'api/figures');
    }).then(function (data) { show(data); suggestions(); return data; }, function (err) {
      status(err.message, true);
    });
  };
  hr.undo = function () { return step('undo'); };
  hr.redo = function () { return step('redo'); };
}());
