import type { Notice } from "../api/messages";

/** The one message of the moment (an error, or the server taking over), until it is dismissed. */
export function NoticeBanner({ notice, onDismiss }: { notice: Notice; onDismiss(): void }) {
  return (
    <div className="notice" role="alert" data-testid="notice" data-code={notice.code ?? ""}>
      <svg className="notice__icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
        <circle cx="12" cy="12" r="10" fill="none" stroke="currentColor" strokeWidth="2" />
        <path d="M12 7v6m0 3.5v.5" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
      </svg>
      <div className="notice__body">
        <p className="notice__title">{notice.title}</p>
        <p className="notice__message">{notice.message}</p>
        {notice.detail && <p className="notice__detail">{notice.detail}</p>}
      </div>
      <button type="button" className="notice__close" aria-label="Dismiss message" onClick={onDismiss}>
        ×
      </button>
    </div>
  );
}
