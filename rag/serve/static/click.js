// Served in the page head. Event delegation on the document: chat messages are
// re-rendered by the frontend, so nothing is bound to individual elements.
(() => {
  function refNumber(el) {
    for (const name of el.classList) {
      const m = /^rag-ref-(\d+)$/.exec(name);
      if (m) return m[1];
    }
    return null;
  }
  function openArticle(trigger) {
    const turn = trigger.closest('.rag-turn');
    const n = refNumber(trigger);
    if (!turn || !n) return;
    const article = turn.querySelector('details.rag-article-' + n);
    if (!article) return;
    article.open = true;
    document.querySelectorAll('.rag-article.rag-focus').forEach((el) => el.classList.remove('rag-focus'));
    article.classList.add('rag-focus');
    const target = article.querySelector('mark') || article.querySelector('.rag-span') || article;
    requestAnimationFrame(() => target.scrollIntoView({block: 'center', behavior: 'instant'}));
  }
  document.addEventListener('click', (event) => {
    const trigger = event.target.closest && event.target.closest('.rag-ref');
    if (!trigger) return;
    event.preventDefault();
    openArticle(trigger);
  }, true);
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    const trigger = event.target.closest && event.target.closest('.rag-card.rag-ref');
    if (!trigger) return;
    event.preventDefault();
    openArticle(trigger);
  }, true);
})();
