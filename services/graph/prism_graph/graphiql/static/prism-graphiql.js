// Prism's GraphiQL page: starts the vendored GraphiQL with the example query and headers the
// page carries (a JSON block, so that no inline script is needed), against the page's own path.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("prism-graphiql-config").textContent);
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
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
