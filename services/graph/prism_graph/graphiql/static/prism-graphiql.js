// Prism's GraphiQL page: starts the vendored GraphiQL with the example query and headers the
// page carries (a JSON block, so that no inline script is needed), against the page's own path.
// Subscriptions go over a WebSocket on the same path (graphql-transport-ws, with the client
// GraphiQL bundles); the headers editor's Authorization travels in its connection_init.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("prism-graphiql-config").textContent);
  var ws = (window.location.protocol === "https:" ? "wss:" : "ws:") + "//" + window.location.host;
  var fetcher = GraphiQL.createFetcher({
    url: window.location.pathname,
    subscriptionUrl: ws + window.location.pathname,
  });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.query,
      defaultHeaders: config.headers,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
    })
  );
})();
