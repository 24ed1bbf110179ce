// What a bot's meeting is called on the pages: the API's own rule (src/domain/meeting-title.ts,
// pure and without imports), which also names the bots of the webhook deliveries.
export { meetingTitle, meetingTitleOfEvents } from '../../domain/meeting-title.ts';
