// The Clientele GraphiQL page. Everything it loads comes from this server (no CDN), under a
// Content-Security-Policy that allows nothing else.
//
// Credentials: run `signIn` here and the page keeps the session token for this tab
// (sessionStorage: gone with the tab, never in localStorage) and sends it as
// `Authorization: Bearer …` with every request, unless the headers editor sets its own
// Authorization header (an API token, say). `signOut` ends the session and forgets it. After an
// OIDC sign-in started with `return_to=/graphiql?signed-in=oidc`, the page fetches the new
// session once from `POST /oidc/session`. The schema is fetched again whenever the token changes.
(function () {
  'use strict';

  var KEY = 'clientele.graphiql.token';
  var base = document.baseURI;
  var endpoint = new URL('graphql', base).toString();

  function token() {
    try {
      return window.sessionStorage.getItem(KEY);
    } catch (e) {
      return null;
    }
  }

  function keep(value) {
    try {
      if (value) {
        window.sessionStorage.setItem(KEY, value);
      } else {
        window.sessionStorage.removeItem(KEY);
      }
    } catch (e) {
      // Storage refused (private mode): the headers editor still works.
    }
  }

  function hasAuthorization(headers) {
    return Object.keys(headers).some(function (name) {
      return name.toLowerCase() === 'authorization';
    });
  }

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));

  function fetcher(params, options) {
    var own = (options && options.headers) || {};
    var headers = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    };
    var kept = token();
    if (kept && !hasAuthorization(own)) {
      headers.authorization = 'Bearer ' + kept;
    }
    Object.keys(own).forEach(function (name) {
      headers[name] = own[name];
    });
    return window
      .fetch(endpoint, { method: 'POST', headers: headers, body: JSON.stringify(params) })
      .then(function (response) {
        return response.text().then(function (text) {
          try {
            return JSON.parse(text);
          } catch (e) {
            throw new Error('HTTP ' + response.status + ': ' + text.slice(0, 200));
          }
        });
      })
      .then(function (body) {
        var data = body && body.data;
        if (data && data.signIn && data.signIn.token) {
          keep(data.signIn.token);
          render();
        } else if (data && data.signOut === true) {
          keep(null);
          render();
        }
        return body;
      });
  }

  var defaultQuery = [
    '# Clientele GraphiQL: served entirely by this server.',
    '#',
    '# Sign in with SignIn below: the page keeps the session token for this tab and sends it',
    '# as "Authorization: Bearer …" (unless the headers editor sets its own Authorization,',
    '# e.g. {"Authorization": "Bearer clt_…"} for an API token). signOut forgets it.',
    '',
    'mutation SignIn {',
    '  signIn(input: {email: "you@example.com", password: "your password"}) {',
    '    token',
    '    userErrors { field code message }',
    '  }',
    '}',
    '',
    'query Me {',
    '  viewer { role user { email } }',
    '}',
    '',
  ].join('\n');

  function footer() {
    var signedIn = token() !== null;
    return React.createElement(
      'div',
      { className: 'clientele-footer' },
      signedIn ? 'Signed in (this tab). ' : 'Not signed in. ',
      signedIn
        ? React.createElement(
            'button',
            {
              type: 'button',
              onClick: function () {
                keep(null);
                render();
              },
            },
            'Forget the token',
          )
        : null,
      ' ',
      React.createElement('a', { href: new URL(LICENCES, base).toString() }, 'Licences'),
    );
  }

  var LICENCES = document.querySelector('link[rel="license"]').getAttribute('href');

  // A new fetcher each time the token changes: GraphiQL introspects again when its fetcher
  // changes, and keeps the editors and the answer shown (a remount would lose them).
  function render() {
    var current = function (params, options) {
      return fetcher(params, options);
    };
    root.render(
      React.createElement(
        GraphiQL,
        { fetcher: current, defaultQuery: defaultQuery, shouldPersistHeaders: false },
        React.createElement(GraphiQL.Footer, null, footer()),
      ),
    );
  }

  // Back from an OIDC sign-in: take the session the server handed to this browser, once.
  var url = new URL(window.location.href);
  if (url.searchParams.get('signed-in') === 'oidc') {
    url.searchParams.delete('signed-in');
    window.history.replaceState(null, '', url.toString());
    window
      .fetch(new URL('oidc/session', base).toString(), { method: 'POST', credentials: 'same-origin' })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body && body.token) {
          keep(body.token);
        }
      })
      .catch(function () {})
      .then(render);
  } else {
    render();
  }
})();
