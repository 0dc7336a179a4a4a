export { Gender } from '../../../vocabulary/index.js';
