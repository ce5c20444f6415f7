// fleetyard's dashboard: the few behaviours htmx attributes do not cover.
// Column headers sort the device list; the log panel follows the device's log stream.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-sort]");
    if (!link) return;
    event.preventDefault();
    var form = document.getElementById("device-filters");
    if (!form) return;
    var sort = form.elements.sort, dir = form.elements.dir;
    dir.value = sort.value === link.dataset.sort && dir.value === "asc" ? "desc" : "asc";
    sort.value = link.dataset.sort;
    form.dispatchEvent(new Event("change", { bubbles: true }));
  });

  function followLogs(panel) {
    var source = new EventSource(panel.dataset.stream);
    var max = 1000;
    source.addEventListener("message", function (event) {
      var line;
      try { line = JSON.parse(event.data); } catch (e) { return; }
      var row = document.createElement("div");
      row.className = "log" + (line.isStdErr ? " stderr" : "") + (line.isSystem ? " system" : "");
      var time = document.createElement("time");
      time.textContent = new Date(line.timestamp).toISOString().replace("T", " ").slice(0, 19);
      row.appendChild(time);
      row.appendChild(document.createTextNode(" " + line.message));
      var atBottom = panel.scrollTop + panel.clientHeight >= panel.scrollHeight - 4;
      panel.appendChild(row);
      while (panel.childNodes.length > max) panel.removeChild(panel.firstChild);
      if (atBottom) panel.scrollTop = panel.scrollHeight;
    });
    source.addEventListener("open", function () { panel.dataset.state = "open"; });
    source.addEventListener("unavailable", function (event) {
      panel.dataset.state = "unavailable";
      panel.textContent = event.data;
      source.close();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("pre[data-stream]").forEach(followLogs);
  });
})();
