// The reply form's files: dropping files on the box adds them to the file input (so the form
// sends them as if chosen), and each is listed with its size, too-large ones flagged before
// anything is sent. Without this script the plain file input still works.
(function () {
  var drop = document.getElementById('drop');
  var input = document.getElementById('files');
  var list = document.getElementById('chosen');
  var script = document.currentScript || document.querySelector('script[data-limit]');
  var limit = Number(script && script.dataset.limit) || 0;
  if (!drop || !input || !list) return;

  function size(bytes) {
    if (bytes < 1024) return bytes + ' bytes';
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + ' KB';
    var mb = bytes / 1024 / 1024;
    return (mb < 10 ? mb.toFixed(1) : Math.round(mb)) + ' MB';
  }

  function show() {
    list.textContent = '';
    Array.prototype.forEach.call(input.files, function (file) {
      var item = document.createElement('li');
      item.textContent = file.name + ' (' + size(file.size) + ')';
      if (limit && file.size > limit) {
        item.className = 'field-error';
        item.textContent += ': too large, at most ' + size(limit);
      }
      list.appendChild(item);
    });
  }

  input.addEventListener('change', show);
  // A file over the limit would be uploaded in full only to be refused: stop before sending.
  var form = input.form;
  if (form) {
    form.addEventListener('submit', function (event) {
      var big = Array.prototype.filter.call(input.files, function (f) { return limit && f.size > limit; });
      if (big.length) {
        event.preventDefault();
        show();
        var note = document.createElement('li');
        note.className = 'field-error';
        note.setAttribute('role', 'alert');
        note.textContent = 'Remove ' + big.map(function (f) { return f.name; }).join(', ') +
          ' before sending: compress or split it, or share a link to it in your reply.';
        list.appendChild(note);
      }
    });
  }
  ['dragenter', 'dragover'].forEach(function (name) {
    drop.addEventListener(name, function (event) {
      event.preventDefault();
      drop.classList.add('over');
    });
  });
  ['dragleave', 'drop'].forEach(function (name) {
    drop.addEventListener(name, function () {
      drop.classList.remove('over');
    });
  });
  drop.addEventListener('drop', function (event) {
    event.preventDefault();
    var all = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
    Array.prototype.forEach.call(event.dataTransfer.files, function (f) { all.items.add(f); });
    input.files = all.files;
    show();
  });
})();
