// Render math with the vendored KaTeX: arithmatex spans in Markdown pages (\( \) and \[ \])
// and the raw $...$ that notebook pages keep. Runs on every page load (document$ is material's).
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
    ignoredClasses: ["highlight", "highlight-ipynb", "jp-OutputArea-output"],
    throwOnError: false,
  })
})
